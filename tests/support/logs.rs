//! What the service logs while a test runs, read back by that test.
//!
//! One subscriber serves the whole test binary, installed once as the global default: a
//! subscriber set per thread (`set_default`) misses events when another test's thread
//! registers the same callsite at the same moment (tracing caches each callsite's interest
//! process-wide), which made a sign-in test fail on CI. Each line goes to the buffer of
//! the thread that wrote it, so tests running side by side do not see each other's lines.

use std::cell::RefCell;
use std::io::Write;
use std::sync::{Arc, Mutex, Once};

use tracing_subscriber::fmt::MakeWriter;

thread_local! {
    static CAPTURE: RefCell<Option<Arc<Mutex<Vec<u8>>>>> = const { RefCell::new(None) };
}

/// The service's log lines written on this thread from `capture()` until it is dropped.
/// Tests using it run on a current-thread runtime, so the service's futures are polled here.
pub struct Captured {
    buffer: Arc<Mutex<Vec<u8>>>,
}

pub fn capture() -> Captured {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let subscriber = tracing_subscriber::fmt()
            .with_writer(ThisThread)
            .with_ansi(false)
            .with_env_filter("truyxuat=debug")
            .finish();
        tracing::subscriber::set_global_default(subscriber)
            .expect("no other test installs a global subscriber");
    });
    // A callsite that another thread registered while the subscriber was being installed may
    // have cached "nobody listens"; ask every callsite again.
    tracing::callsite::rebuild_interest_cache();
    let buffer = Arc::new(Mutex::new(Vec::new()));
    CAPTURE.with(|slot| *slot.borrow_mut() = Some(buffer.clone()));
    Captured { buffer }
}

impl Captured {
    pub fn lines(&self, containing: &str) -> Vec<String> {
        String::from_utf8_lossy(&self.buffer.lock().unwrap())
            .lines()
            .filter(|l| l.contains(containing))
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for Captured {
    fn drop(&mut self) {
        CAPTURE.with(|slot| *slot.borrow_mut() = None);
    }
}

/// Writes to the capturing buffer of the current thread, or nowhere.
struct ThisThread;

impl<'a> MakeWriter<'a> for ThisThread {
    type Writer = ThreadWriter;
    fn make_writer(&'a self) -> ThreadWriter {
        ThreadWriter(CAPTURE.with(|slot| slot.borrow().clone()))
    }
}

struct ThreadWriter(Option<Arc<Mutex<Vec<u8>>>>);

impl Write for ThreadWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Some(buffer) = &self.0 {
            buffer.lock().unwrap().extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
