//! The user data pointer a callback gets back.

use std::ffi::c_void;

/// A C pointer rig never reads, only hands back to the C callback that came
/// with it, on rig's threads.
#[derive(Clone, Copy, Debug)]
pub(crate) struct UserData(*mut c_void);

// SAFETY: rig never dereferences the pointer; the caller of each
// registering function promises it may be used from rig's threads (it is
// in that function's `# Safety` section).
unsafe impl Send for UserData {}
// SAFETY: as for Send: only ever handed back, never read.
unsafe impl Sync for UserData {}

impl UserData {
    pub(crate) fn new(pointer: *mut c_void) -> Self {
        Self(pointer)
    }

    pub(crate) fn get(self) -> *mut c_void {
        self.0
    }
}
