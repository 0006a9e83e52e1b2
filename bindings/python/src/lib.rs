//! The Python extension `roulette._roulette`: a thin wrapper over `roulette-client`. Every
//! method hands its work to the Rust client and returns an awaitable; events come out as JSON
//! text that the Python layer (`python/roulette/__init__.py`) decodes. Errors are raised as
//! `NativeError(code, message)`, which the Python layer turns into its exception classes.

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3_async_runtimes::tokio::future_into_py;
use roulette_client::{ConnectOptions, Error, Kind};
use std::sync::Arc;

create_exception!(
    _roulette,
    NativeError,
    PyException,
    "An error from the Rust client: (code, message)."
);

fn to_py(e: Error) -> PyErr {
    NativeError::new_err((e.code(), e.to_string()))
}

/// A participant's connection.
#[pyclass(frozen)]
struct Participant {
    inner: Arc<roulette_client::Participant>,
}

#[pymethods]
impl Participant {
    /// Connects (awaitable). `chat` picks the chat roulette's endpoint.
    #[staticmethod]
    #[pyo3(signature = (server, token=None, chat=false))]
    fn connect(
        py: Python<'_>,
        server: String,
        token: Option<String>,
        chat: bool,
    ) -> PyResult<Bound<'_, PyAny>> {
        future_into_py(py, async move {
            let kind = if chat { Kind::Chat } else { Kind::Participant };
            let p = roulette_client::Participant::connect(ConnectOptions {
                server,
                token,
                kind,
            })
            .await
            .map_err(to_py)?;
            Ok(Participant { inner: Arc::new(p) })
        })
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

    /// The next event as JSON, or None once closed (awaitable).
    fn next_event<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let inner = self.inner.clone();
        future_into_py(py, async move {
            Ok(inner.next_event().await.map(|e| e.to_json()))
        })
    }

    /// Sends a client message given as JSON (awaitable).
    fn send_json<'py>(&self, py: Python<'py>, json: String) -> PyResult<Bound<'py, PyAny>> {
        let inner = self.inner.clone();
        future_into_py(
            py,
            async move { inner.send_json(&json).await.map_err(to_py) },
        )
    }

    /// Sends terminal input (awaitable).
    fn input<'py>(&self, py: Python<'py>, data: Vec<u8>) -> PyResult<Bound<'py, PyAny>> {
        let inner = self.inner.clone();
        future_into_py(
            py,
            async move { inner.input(data.into()).await.map_err(to_py) },
        )
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
    /// Starts the host agent (awaitable).
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
    ) -> PyResult<Bound<'_, PyAny>> {
        future_into_py(py, async move {
            let host = roulette_client::Host::start(roulette_client::HostConfig {
                server,
                token,
                command,
                invite,
                once,
                show_output: output,
                allow_unsafe_flags: false,
            })
            .map_err(to_py)?;
            Ok(Host {
                inner: Arc::new(host),
            })
        })
    }

    /// The next status or message as JSON, or None once stopped (awaitable).
    fn next_event<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let inner = self.inner.clone();
        future_into_py(py, async move {
            Ok(inner.next_event().await.map(|e| e.to_json()))
        })
    }

    /// Sends a message as the host, given as JSON (awaitable).
    fn send_json<'py>(&self, py: Python<'py>, json: String) -> PyResult<Bound<'py, PyAny>> {
        let inner = self.inner.clone();
        future_into_py(
            py,
            async move { inner.send_json(&json).await.map_err(to_py) },
        )
    }

    /// Types at the host's keyboard (awaitable).
    fn keys<'py>(&self, py: Python<'py>, data: Vec<u8>) -> PyResult<Bound<'py, PyAny>> {
        let inner = self.inner.clone();
        future_into_py(
            py,
            async move { inner.keys(data.into()).await.map_err(to_py) },
        )
    }

    /// Allows or refuses a remote driver's held line (awaitable).
    fn decide_line<'py>(
        &self,
        py: Python<'py>,
        id: u64,
        allow: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let inner = self.inner.clone();
        future_into_py(py, async move {
            inner.decide_line(id, allow).await.map_err(to_py)
        })
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
