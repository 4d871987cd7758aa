//! Plain types and rules of the domain. No I/O: everything here is unit-tested directly.

pub mod gs1;
pub mod gtin;
pub mod text;
