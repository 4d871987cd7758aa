//! GS1 EPCIS 2.0 events: what happened to a lot (harvest, processing, packing, shipping,
//! receiving, recall), as partners exchange them in JSON-LD. This module holds the rules that
//! need no I/O: the CBV 2.0 event hash id (`hash`), the GS1 identifiers events carry
//! (`identifiers`), the steps a shopper reads (`journey`) and an event as a cooperative
//! types it (`record`), and the names of the binding's problems (`exception`).

pub mod event;
pub mod hash;
pub mod identifiers;
pub mod journey;
pub mod record;

/// GS1's name (`epcisException:…`) for a problem of the REST binding answered with `status`;
/// `query` when it answers a query (a refused parameter), not a capture. None for statuses the
/// binding does not name.
pub fn exception(status: u16, query: bool) -> Option<&'static str> {
    Some(match status {
        400 | 422 if query => "epcisException:QueryParameterException",
        400 | 422 => "epcisException:ValidationException",
        401 | 403 => "epcisException:SecurityException",
        404 => "epcisException:NoSuchResourceException",
        409 => "epcisException:ResourceAlreadyExistsException",
        413 => "epcisException:CaptureLimitExceededException",
        500 => "epcisException:ImplementationException",
        _ => return None,
    })
}
