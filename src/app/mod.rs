//! The application layer: what people and machines do with truyxuat, between the edges
//! (web, cli) and the store. One module per area.

pub mod labels;
