//! The Python extension `roulette._roulette`: a thin wrapper over `roulette-client`.
//!
//! Every method is synchronous and releases the GIL while the Rust client works on a runtime
//! of its own; the Python layer (`python/roulette/__init__.py`) runs them in asyncio's thread
//! pool, so that only Python's own threads ever touch Python objects (and Python joins them at
//! exit). Waiting for an event takes a timeout, so no call outlives the program by long.
//! Events come out as JSON text. Errors are raised as `NativeError(code, message)`, which the
//! Python layer turns into its exception classes.

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use roulette_client::{ConnectOptions, Error, Event, Kind};
use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

create_exception!(
    _roulette,
    NativeError,
    PyException,
    "An error from the Rust client: (code, message)."
);

fn to_py(e: Error) -> PyErr {
    NativeError::new_err((e.code(), e.to_string()))
}

/// The runtime the Rust client runs on, started on first use.
fn runtime() -> PyResult<&'static tokio::runtime::Runtime> {
    static RUNTIME: OnceLock<Option<tokio::runtime::Runtime>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("roulette")
                .enable_all()
                .build()
                .ok()
        })
        .as_ref()
        .ok_or_else(|| NativeError::new_err(("internal", "could not start the runtime")))
}

/// Runs `fut` to completion on the client's runtime with the GIL released.
fn run<T: Send>(py: Python<'_>, fut: impl Future<Output = T> + Send) -> PyResult<T> {
    let rt = runtime()?;
    Ok(py.detach(|| rt.block_on(fut)))
}

/// The next event within `timeout_ms`: `(json, False)`, `(None, False)` when none came in
/// time, `(None, True)` once the stream has ended.
fn next_within<F>(py: Python<'_>, timeout_ms: u64, next: F) -> PyResult<(Option<String>, bool)>
where
    F: Future<Output = Option<Event>> + Send,
{
    run(py, async move {
        match tokio::time::timeout(Duration::from_millis(timeout_ms), next).await {
            Ok(Some(event)) => (Some(event.to_json()), false),
            Ok(None) => (None, true),
            Err(_) => (None, false),
        }
    })
}

/// A participant's connection.
#[pyclass(frozen)]
struct Participant {
    inner: Arc<roulette_client::Participant>,
}

#[pymethods]
impl Participant {
    /// Connects. `chat` picks the chat roulette's endpoint.
    #[staticmethod]
    #[pyo3(signature = (server, token=None, chat=false))]
    fn connect(
        py: Python<'_>,
        server: String,
        token: Option<String>,
        chat: bool,
    ) -> PyResult<Participant> {
        let kind = if chat { Kind::Chat } else { Kind::Participant };
        let p = run(
            py,
            roulette_client::Participant::connect(ConnectOptions {
                server,
                token,
                kind,
            }),
        )?
        .map_err(to_py)?;
        Ok(Participant { inner: Arc::new(p) })
    }

    /// The participant id.
    #[getter]
    fn participant(&self) -> u64 {
        self.inner.identity().participant
    }

    /// The handle.
    #[getter]
    fn name(&self) -> String {
        self.inner.identity().name.clone()
    }

    /// The token to come back with (for a new guest).
    #[getter]
    fn token(&self) -> Option<String> {
        self.inner.identity().token.clone()
    }

    /// The next event within `timeout_ms` (see `next_within`).
    fn next_event(&self, py: Python<'_>, timeout_ms: u64) -> PyResult<(Option<String>, bool)> {
        let inner = self.inner.clone();
        next_within(py, timeout_ms, async move { inner.next_event().await })
    }

    /// Sends a client message given as JSON.
    fn send_json(&self, py: Python<'_>, json: String) -> PyResult<()> {
        let inner = self.inner.clone();
        run(py, async move { inner.send_json(&json).await })?.map_err(to_py)
    }

    /// Sends terminal input.
    fn input(&self, py: Python<'_>, data: Vec<u8>) -> PyResult<()> {
        let inner = self.inner.clone();
        run(py, async move { inner.input(data.into()).await })?.map_err(to_py)
    }

    /// Closes the connection.
    fn close(&self) {
        self.inner.close();
    }
}

/// A host agent running a command in a PTY.
#[pyclass(frozen)]
struct Host {
    inner: Arc<roulette_client::Host>,
}

#[pymethods]
impl Host {
    /// Starts the host agent.
    #[staticmethod]
    #[pyo3(signature = (server, token, command, invite=false, once=true, output=false))]
    fn start(
        py: Python<'_>,
        server: String,
        token: String,
        command: Vec<String>,
        invite: bool,
        once: bool,
        output: bool,
    ) -> PyResult<Host> {
        let config = roulette_client::HostConfig {
            server,
            token,
            command,
            invite,
            once,
            show_output: output,
            allow_unsafe_flags: false,
        };
        let host = run(py, async move { roulette_client::Host::start(config) })?.map_err(to_py)?;
        Ok(Host {
            inner: Arc::new(host),
        })
    }

    /// The next status or message within `timeout_ms` (see `next_within`).
    fn next_event(&self, py: Python<'_>, timeout_ms: u64) -> PyResult<(Option<String>, bool)> {
        let inner = self.inner.clone();
        next_within(py, timeout_ms, async move { inner.next_event().await })
    }

    /// Sends a message as the host, given as JSON.
    fn send_json(&self, py: Python<'_>, json: String) -> PyResult<()> {
        let inner = self.inner.clone();
        run(py, async move { inner.send_json(&json).await })?.map_err(to_py)
    }

    /// Types at the host's keyboard.
    fn keys(&self, py: Python<'_>, data: Vec<u8>) -> PyResult<()> {
        let inner = self.inner.clone();
        run(py, async move { inner.keys(data.into()).await })?.map_err(to_py)
    }

    /// Allows or refuses a remote driver's held line.
    fn decide_line(&self, py: Python<'_>, id: u64, allow: bool) -> PyResult<()> {
        let inner = self.inner.clone();
        run(py, async move { inner.decide_line(id, allow).await })?.map_err(to_py)
    }

    /// Stops the agent.
    fn stop(&self) {
        self.inner.stop();
    }
}

#[pymodule]
fn _roulette(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Participant>()?;
    m.add_class::<Host>()?;
    m.add("NativeError", m.py().get_type::<NativeError>())?;
    Ok(())
}
