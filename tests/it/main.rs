//! All integration tests build into this one binary.

mod campaign;
mod prism;
mod sandbox;
mod support;
