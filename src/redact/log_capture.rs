//! A `log` logger for tests: it keeps, as text, the records emitted on the
//! thread that asked for them (other tests run on other threads at the same
//! time), at every level. The level is raised only while some thread
//! captures: the other tests do not pay for formatting trace records.

use std::cell::RefCell;
use std::sync::Once;
use std::sync::atomic::{AtomicUsize, Ordering};

use log::{LevelFilter, Log, Metadata, Record};

thread_local! {
    static LINES: RefCell<Option<Vec<String>>> = const { RefCell::new(None) };
}

struct Capture;

impl Log for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        LINES.with(|lines| lines.borrow().is_some())
    }

    fn log(&self, record: &Record<'_>) {
        LINES.with(|lines| {
            if let Some(lines) = lines.borrow_mut().as_mut() {
                lines.push(format!("{} {}: {}", record.level(), record.target(), record.args()));
            }
        });
    }

    fn flush(&self) {}
}

static CAPTURE: Capture = Capture;
static INSTALL: Once = Once::new();
/// How many threads are capturing now.
static CAPTURING: AtomicUsize = AtomicUsize::new(0);

/// Runs `body` and returns every record it logged on this thread.
pub(crate) fn capture(body: impl FnOnce()) -> String {
    INSTALL.call_once(|| {
        // The only logger a test binary installs; if another got there
        // first, the assertions on the captured text say so.
        let _ = log::set_logger(&CAPTURE);
    });
    LINES.with(|lines| *lines.borrow_mut() = Some(Vec::new()));
    if CAPTURING.fetch_add(1, Ordering::SeqCst) == 0 {
        log::set_max_level(LevelFilter::Trace);
    }
    body();
    if CAPTURING.fetch_sub(1, Ordering::SeqCst) == 1 {
        log::set_max_level(LevelFilter::Off);
    }
    LINES.with(|lines| lines.borrow_mut().take()).unwrap_or_default().join("\n")
}
