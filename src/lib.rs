//! truyxuat: a product traceability QR service.
//!
//! Data flows one way: `web` and `cli` call domain services; services call the `store`;
//! the store knows SQL and nothing of HTTP. `domain` and `labels` do no I/O (but for
//! `labels::keystore`, which reads and writes the key folder).
#![forbid(unsafe_code)]

pub mod cli;
pub mod clock;
pub mod config;
pub mod demo;
pub mod domain;
pub mod labelling;
pub mod labels;
pub mod render;
pub mod scans;
pub mod store;
pub mod web;
