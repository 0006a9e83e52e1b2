//! The PTY bridge for Roulette: spawning the agent in a pseudo-terminal in an isolated working
//! directory and streaming its output.
//!
//! Nothing is implemented here yet; this crate exists so the workspace has its final layout.
//! The relay issue builds it.
