//! A `log` logger for tests: it keeps, as text, the records emitted on the
//! thread that asked for them (other tests run on other threads at the same
//! time), or on threads with a given name, at every level. The level is
//! raised only while something captures: the other tests do not pay for
//! formatting trace records.

use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, Once, PoisonError};

use log::{LevelFilter, Log, Metadata, Record};

thread_local! {
    static LINES: RefCell<Option<Vec<String>>> = const { RefCell::new(None) };
}

struct Capture;

impl Log for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        LINES.with(|lines| lines.borrow().is_some()) || named_thread_lines(|_| ()).is_some()
    }

    fn log(&self, record: &Record<'_>) {
        let line = || format!("{} {}: {}", record.level(), record.target(), record.args());
        LINES.with(|lines| {
            if let Some(lines) = lines.borrow_mut().as_mut() {
                lines.push(line());
            }
        });
        named_thread_lines(|lines| lines.push(line()));
    }

    fn flush(&self) {}
}

static CAPTURE: Capture = Capture;
static INSTALL: Once = Once::new();
/// Records of threads named `.0` (other tests' threads of that name too:
/// fine for "this never shows" assertions).
static NAMED: Mutex<Option<(String, Vec<String>)>> = Mutex::new(None);

/// Runs `add` on the named capture when this thread is the named one.
fn named_thread_lines(add: impl FnOnce(&mut Vec<String>)) -> Option<()> {
    let thread = std::thread::current();
    let mut named = NAMED.lock().unwrap_or_else(PoisonError::into_inner);
    let (name, lines) = named.as_mut()?;
    (thread.name() == Some(name.as_str())).then(|| add(lines))
}

/// How many threads are capturing now.
static CAPTURING: AtomicUsize = AtomicUsize::new(0);

/// Runs `body` and returns every record it logged on this thread.
pub(crate) fn capture(body: impl FnOnce()) -> String {
    LINES.with(|lines| *lines.borrow_mut() = Some(Vec::new()));
    with_trace_level(body);
    LINES.with(|lines| lines.borrow_mut().take()).unwrap_or_default().join("\n")
}

/// Runs `body` and returns every record logged meanwhile on threads named
/// `thread` (one such capture at a time).
pub(crate) fn capture_thread(thread: &str, body: impl FnOnce()) -> String {
    *NAMED.lock().unwrap_or_else(PoisonError::into_inner) = Some((thread.to_owned(), Vec::new()));
    with_trace_level(body);
    let named = NAMED.lock().unwrap_or_else(PoisonError::into_inner).take();
    named.map(|(_, lines)| lines.join("\n")).unwrap_or_default()
}

fn with_trace_level(body: impl FnOnce()) {
    INSTALL.call_once(|| {
        // The only logger a test binary installs; if another got there
        // first, the assertions on the captured text say so.
        let _ = log::set_logger(&CAPTURE);
    });
    if CAPTURING.fetch_add(1, Ordering::SeqCst) == 0 {
        log::set_max_level(LevelFilter::Trace);
    }
    body();
    if CAPTURING.fetch_sub(1, Ordering::SeqCst) == 1 {
        log::set_max_level(LevelFilter::Off);
    }
}
