//! GS1 EPCIS 2.0 events: what happened to a lot (harvest, processing, packing, shipping,
//! receiving, recall), as partners exchange them in JSON-LD. This module holds the rules that
//! need no I/O: the CBV 2.0 event hash id (`hash`) and the GS1 identifiers events carry
//! (`identifiers`).

pub mod event;
pub mod hash;
pub mod identifiers;
pub mod journey;
