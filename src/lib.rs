//! truyxuat: a product traceability QR service.
//!
//! Data flows one way: `web` and `cli` call domain services; services call the `store`;
//! the store knows SQL and nothing of HTTP.
#![forbid(unsafe_code)]

pub mod domain;
pub mod labels;
