//! Test fixtures: fresh databases and builder-style registry entities.

pub mod changes;
pub mod cli_env;
pub mod db;
pub mod epcis;
pub mod fixtures;
pub mod http;
pub mod labels;
pub mod logs;
pub mod proxy;
