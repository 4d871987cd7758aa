//! A lot's journey: the events that name it, read as the steps a shopper understands
//! (harvested, processed, packed, shipped, received: when, where), and the way back through
//! transformations to the lots it was made from.

use chrono::{DateTime, FixedOffset};
use serde_json::Value;

use super::identifiers::canonical_digital_link;

/// The class id events name a lot by: its GS1 Digital Link (`…/01/{gtin}/10/{lot}`) when the
/// product has a GTIN, otherwise truyxuat's own URN for it.
pub fn lot_class_id(gtin14: Option<&str>, product_id: i64, lot_code: &str) -> String {
    match gtin14 {
        Some(gtin) => format!("https://id.gs1.org/01/{gtin}/10/{lot_code}"),
        None => format!("urn:truyxuat:lot:{product_id}:{lot_code}"),
    }
}

/// The identifiers an event names in `lists` (EPC lists and the classes of quantity lists),
/// canonical where they are GS1 keys.
fn named(event: &Value, lists: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for list in lists {
        for item in event
            .get(*list)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let id = item
                .as_str()
                .or_else(|| item.get("epcClass").and_then(Value::as_str));
            if let Some(id) = id {
                out.push(canonical_digital_link(id).unwrap_or_else(|| id.to_owned()));
            }
        }
    }
    out
}

/// Every identifier an event names, what it made first.
pub fn everything_named(event: &Value) -> Vec<String> {
    named(
        event,
        &[
            "outputQuantityList",
            "outputEPCList",
            "quantityList",
            "epcList",
            "childQuantityList",
            "childEPCs",
            "inputQuantityList",
            "inputEPCList",
        ],
    )
}

/// What a transformation consumed.
pub fn inputs(event: &Value) -> Vec<String> {
    named(event, &["inputEPCList", "inputQuantityList"])
}

/// What a transformation made.
pub fn outputs(event: &Value) -> Vec<String> {
    named(event, &["outputEPCList", "outputQuantityList"])
}

/// What kind of step an event is, for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    Harvested,
    Processed,
    Packed,
    Shipped,
    Received,
    Recalled,
    Recorded,
}

impl StepKind {
    fn of(event: &Value) -> StepKind {
        let step = event
            .get("bizStep")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let disposition = event.get("disposition").and_then(Value::as_str);
        if disposition == Some("recalled") {
            return StepKind::Recalled;
        }
        if event.get("type").and_then(Value::as_str) == Some("TransformationEvent") {
            return StepKind::Processed;
        }
        match step {
            "commissioning" | "creating_class_instance" => StepKind::Harvested,
            "packing" | "repackaging" => StepKind::Packed,
            "shipping" | "departing" | "transporting" => StepKind::Shipped,
            "receiving" | "arriving" | "accepting" => StepKind::Received,
            _ => StepKind::Recorded,
        }
    }

    /// The step's name in forms and links.
    pub fn slug(self) -> &'static str {
        match self {
            StepKind::Harvested => "harvested",
            StepKind::Processed => "processed",
            StepKind::Packed => "packed",
            StepKind::Shipped => "shipped",
            StepKind::Received => "received",
            StepKind::Recalled => "recalled",
            StepKind::Recorded => "recorded",
        }
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            StepKind::Harvested => "Thu hoạch, sản xuất",
            StepKind::Processed => "Chế biến",
            StepKind::Packed => "Đóng gói",
            StepKind::Shipped => "Xuất hàng",
            StepKind::Received => "Nhận hàng",
            StepKind::Recalled => "Thu hồi",
            StepKind::Recorded => "Ghi nhận",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            StepKind::Harvested => "Harvested, produced",
            StepKind::Processed => "Processed",
            StepKind::Packed => "Packed",
            StepKind::Shipped => "Shipped",
            StepKind::Received => "Received",
            StepKind::Recalled => "Recalled",
            StepKind::Recorded => "Recorded",
        }
    }
}

/// The extension field where truyxuat's forms (and partners who wish) describe a place in
/// words: `{"name": …, "commune": …, "province": …}`. (A GLN alone means nothing to a
/// shopper.)
pub const PLACE_FIELD: &str = "truyxuat:place";

/// One step of a journey, as a page shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub kind: StepKind,
    /// When, in the time zone the event was recorded in.
    pub at: DateTime<FixedOffset>,
    /// The place's name, when the event names it in words.
    pub place: Option<String>,
    pub province: Option<String>,
    /// How much, as recorded (`1200 KGM`).
    pub quantity: Option<String>,
}

impl Step {
    /// The step an event is, when it has a readable time.
    pub fn of(event: &Value) -> Option<Step> {
        let at = DateTime::parse_from_rfc3339(event.get("eventTime")?.as_str()?).ok()?;
        let offset = event
            .get("eventTimeZoneOffset")
            .and_then(Value::as_str)
            .and_then(|o| DateTime::parse_from_rfc3339(&format!("2000-01-01T00:00:00{o}")).ok())
            .map(|d| *d.offset());
        let at = offset.map_or(at, |o| at.with_timezone(&o));
        let place = event.get(PLACE_FIELD);
        let text = |key: &str| {
            place
                .and_then(|p| p.get(key))
                .and_then(Value::as_str)
                .map(shown)
                .filter(|s| !s.is_empty())
        };
        let quantity = ["quantityList", "outputQuantityList", "childQuantityList"]
            .iter()
            .find_map(|l| event.get(*l)?.as_array()?.first().cloned())
            .and_then(|q| {
                let n = q.get("quantity")?.as_f64()?;
                let uom = q.get("uom").and_then(Value::as_str).unwrap_or_default();
                Some(
                    format!("{} {}", vi_number(n), unit_vi(uom))
                        .trim()
                        .to_owned(),
                )
            });
        Some(Step {
            kind: StepKind::of(event),
            at,
            place: Some(
                [text("name"), text("plot"), text("commune")]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(", "),
            )
            .filter(|p| !p.is_empty()),
            province: text("province"),
            quantity,
        })
    }
}

/// A partner's text as a page may show it: one clean line, without control or bidi
/// characters, at most 120 characters (the page escapes it too).
fn shown(s: &str) -> String {
    use crate::domain::text::{clean, is_bidi_control};
    clean(s)
        .chars()
        .filter(|c| !c.is_control() && !is_bidi_control(*c))
        .take(120)
        .collect()
}

/// A quantity as Vietnamese write it: 1.200,5 (thousands by dots, a decimal comma), to three
/// decimals at most.
fn vi_number(n: f64) -> String {
    let text = format!("{:.3}", n.abs());
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let mut grouped = String::new();
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push('.');
        }
        grouped.push(digit);
    }
    let fraction = fraction.trim_end_matches('0');
    let sign = if n < 0.0 { "-" } else { "" };
    if fraction.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped},{fraction}")
    }
}

/// A UN/CEFACT unit as Vietnamese shoppers write it.
fn unit_vi(code: &str) -> &str {
    match code {
        "KGM" => "kg",
        "TNE" => "tấn",
        "GRM" => "g",
        "LTR" => "lít",
        "H87" | "EA" => "cái",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_harvest_reads_as_a_step_with_its_place_time_and_quantity() {
        let event = json!({
            "type": "ObjectEvent", "eventTime": "2026-08-01T06:30:00+07:00",
            "eventTimeZoneOffset": "+07:00", "action": "ADD", "bizStep": "commissioning",
            "quantityList": [{"epcClass": "x:y", "quantity": 1200, "uom": "KGM"}],
            "truyxuat:place": {"name": "Vườn nhãn VT-HY-0451", "commune": "Hồng Nam", "province": "Hưng Yên"}
        });
        let step = Step::of(&event).unwrap();
        assert_eq!(step.kind, StepKind::Harvested);
        assert_eq!(step.at.to_rfc3339(), "2026-08-01T06:30:00+07:00");
        assert_eq!(
            step.place.as_deref(),
            Some("Vườn nhãn VT-HY-0451, Hồng Nam")
        );
        assert_eq!(step.province.as_deref(), Some("Hưng Yên"));
        assert_eq!(step.quantity.as_deref(), Some("1.200 kg"));
    }

    #[test]
    fn quantities_are_written_as_vietnamese_write_them() {
        assert_eq!(vi_number(3000.0), "3.000");
        assert_eq!(vi_number(1_234_567.5), "1.234.567,5");
        assert_eq!(vi_number(0.25), "0,25");
        assert_eq!(vi_number(950.0), "950");
    }

    #[test]
    fn a_transformation_names_its_inputs_and_outputs_in_canonical_form() {
        let event = json!({
            "type": "TransformationEvent",
            "inputQuantityList": [{"epcClass": "urn:epc:class:lgtin:893601234.0567.A", "quantity": 5}],
            "outputQuantityList": [{"epcClass": "https://example.vn/01/08936012345674/10/C", "quantity": 1}]
        });
        assert_eq!(
            inputs(&event),
            ["https://id.gs1.org/01/08936012345674/10/A"]
        );
        assert_eq!(
            outputs(&event),
            ["https://id.gs1.org/01/08936012345674/10/C"]
        );
        assert_eq!(StepKind::of(&event), StepKind::Processed);
    }
}
