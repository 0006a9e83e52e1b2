//! The Roulette relay server: HTTP and WebSocket, lobby and room actors around
//! `roulette-core`, auth, limits, persistence and metrics.
//!
//! Nothing is implemented here yet; this crate exists so the workspace has its final layout.
//! The relay issue builds it.
