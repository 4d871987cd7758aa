//! Integration tests, compiled as one binary. The storage contract runs on SQLite always and
//! on PostgreSQL when `TRUYXUAT_TEST_POSTGRES_URL` is set (`make test` says when it is not).

// Tests drive real sockets, processes and files, and time them by the wall clock; the
// service itself reads no clock but through `truyxuat::clock` (clippy.toml).
#![allow(clippy::disallowed_methods)]

mod support;

mod api_batches;
mod audit;
mod audit_log;
mod browser;
mod cli;
mod connections;
mod console_events;
mod console_labels;
mod console_records;
mod epcis_api;
mod epcis_capture_jobs;
mod epcis_events;
mod epcis_hash;
mod faults;
mod hostile;
mod http;
mod inspect;
mod journey;
mod keys_cli;
mod labels;
mod openapi;
mod people;
mod permissions;
mod photos;
mod print;
mod print_restart;
mod scan;
mod sheets;
mod signin;
mod store_contract;
mod tlog;
