//! Any bytes as a V2 binary frame from either side (and refused by V1).
//! Whatever decodes must re-encode and decode to the same message.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    rig::protocol::serializer::fuzzing::decode_binary(data);
});
