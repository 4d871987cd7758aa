//! truyxuat: a product traceability QR service.
//!
//! Data flows one way: `web` and `cli` call the application layer (`app`); it applies the
//! rules of `domain` and calls the `store`, which knows SQL and nothing of HTTP. `domain`
//! and `labelcode` (the label codec) do no I/O (but for `labelcode::keystore`, which reads
//! and writes the key folder).
#![forbid(unsafe_code)]

pub mod app;
pub mod auditkey;
pub mod cli;
pub mod clock;
pub mod config;
pub mod demo;
pub mod domain;
pub mod jobs;
pub mod labelcode;
pub mod photos;
pub mod render;
pub mod scans;
pub mod sheets;
pub mod store;
pub mod web;
pub mod worker;
