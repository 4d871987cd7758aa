//! GS1 EPCIS 2.0 events: what happened to a lot (harvest, processing, packing, shipping,
//! receiving, recall), as partners exchange them in JSON-LD. This module holds the rules that
//! need no I/O: the CBV 2.0 event hash id (`hash`), the GS1 identifiers events carry
//! (`identifiers`), the steps a shopper reads (`journey`) and an event as a cooperative
//! types it (`record`).

pub mod event;
pub mod hash;
pub mod identifiers;
pub mod journey;
pub mod record;
