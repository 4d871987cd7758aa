//! An event as a cooperative records it, on a phone at the field or as a spreadsheet row:
//! a step ("harvested"), a lot, a day and time, a quantity and a place in words. Checked by
//! the same rules either way, then written as the EPCIS 2.0 event partners read.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, TimeZone};
use serde_json::{Value, json};

use super::journey::{PLACE_FIELD, StepKind};
use crate::domain::province::{self, Province};
use crate::domain::text::fold;
use crate::domain::validation::{Invalid, Rule, Validator, parse_quantity};

/// Vietnam's time zone: events recorded here happen at +07:00.
pub fn vietnam() -> FixedOffset {
    FixedOffset::east_opt(7 * 3600).expect("+07:00 is an offset")
}

/// The steps a cooperative records by hand (a recall is the inspector's).
pub const RECORDABLE: [StepKind; 5] = [
    StepKind::Harvested,
    StepKind::Processed,
    StepKind::Packed,
    StepKind::Shipped,
    StepKind::Received,
];

/// Units a cooperative weighs or counts in: the UN/CEFACT code EPCIS carries, and the word.
pub const UNITS: [(&str, &str); 5] = [
    ("KGM", "kg"),
    ("TNE", "tấn"),
    ("GRM", "g"),
    ("LTR", "lít"),
    ("H87", "cái, gói, hộp"),
];

/// A step as typed: its name in the form's list ("harvested"), in Vietnamese or English
/// words ("Thu hoạch", "Đóng gói", "packed"), with or without diacritics.
pub fn parse_step(typed: &str) -> Option<StepKind> {
    let typed = fold(typed);
    RECORDABLE.into_iter().find(|k| {
        let vi = fold(k.label_vi());
        typed == k.slug()
            || typed == fold(k.label_en())
            || typed == vi
            || vi.split(", ").any(|word| word == typed)
    })
}

/// A unit as typed: its code or a word for it ("kg", "tấn", "gói").
pub fn parse_unit(typed: &str) -> Option<&'static str> {
    let typed = fold(typed);
    UNITS.iter().find_map(|(code, words)| {
        let known = typed == fold(code) || fold(words).split(", ").any(|w| w == typed);
        known.then_some(*code)
    })
}

/// An event as typed in the console's form or a spreadsheet's row.
#[derive(Debug, Clone, Default)]
pub struct RecordingInput {
    pub step: String,
    pub lot_id: Option<i64>,
    /// The lots a processing step used.
    pub inputs: Vec<i64>,
    pub date: String,
    /// "06:30"; blank reads as the start of the day.
    pub time: String,
    pub quantity: String,
    pub unit: String,
    pub place: String,
    /// The growing area's code ("VT-TN-0451").
    pub plot: String,
    pub commune: String,
    pub province: String,
}

/// A place in words, as a shopper reads it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Place {
    pub name: Option<String>,
    pub plot: Option<String>,
    pub commune: Option<String>,
    pub province: Option<Province>,
}

/// A checked event, waiting only for its lots' identifiers.
#[derive(Debug, Clone, PartialEq)]
pub struct Recording {
    pub kind: StepKind,
    pub lot_id: i64,
    pub inputs: Vec<i64>,
    pub at: DateTime<FixedOffset>,
    /// How much, in which unit (a UN/CEFACT code).
    pub quantity: Option<(f64, &'static str)>,
    pub place: Place,
}

/// The furthest ahead of the clock an event may be dated: a phone's clock runs a little off.
const AHEAD: chrono::Duration = chrono::Duration::hours(1);

impl RecordingInput {
    /// Checks every field against the time it is `now`.
    pub fn validate(&self, now: DateTime<chrono::Utc>) -> Result<Recording, Invalid> {
        let mut v = Validator::default();
        let kind = match parse_step(&self.step) {
            Some(kind) => Some(kind),
            None if self.step.trim().is_empty() => {
                v.choose("step", "choose what happened");
                None
            }
            None => {
                let message = "must be harvested, processed, packed, shipped or received";
                v.refuse_by("step", Rule::NotInList, Some(self.step.clone()), message);
                None
            }
        };
        if self.lot_id.is_none() {
            v.choose("lot_id", "choose the lot");
        }
        let inputs: Vec<i64> = self
            .inputs
            .iter()
            .copied()
            .filter(|i| Some(*i) != self.lot_id)
            .collect();
        if kind == Some(StepKind::Processed) && inputs.is_empty() {
            v.choose("inputs", "choose the lots it was made from");
        }
        let at = self.time_of_event(&mut v, now);
        let quantity = self.quantity(&mut v);
        let place = Place {
            name: v.optional_text("place", Some(&self.place), 120),
            plot: v.optional_text("plot", Some(&self.plot), 40),
            commune: v.optional_text("commune", Some(&self.commune), 100),
            province: Some(self.province.trim())
                .filter(|p| !p.is_empty())
                .and_then(|p| v.check_by("province", province::parse(p))),
        };
        v.finish()?;
        Ok(Recording {
            kind: kind.unwrap_or(StepKind::Harvested),
            lot_id: self.lot_id.unwrap_or_default(),
            inputs: if kind == Some(StepKind::Processed) {
                inputs
            } else {
                Vec::new()
            },
            at: at.unwrap_or_else(|| now.with_timezone(&vietnam())),
            quantity,
            place,
        })
    }

    fn time_of_event(
        &self,
        v: &mut Validator,
        now: DateTime<chrono::Utc>,
    ) -> Option<DateTime<FixedOffset>> {
        let date: NaiveDate = if self.date.trim().is_empty() {
            v.refuse_by("date", Rule::Required, None, "must not be empty");
            return None;
        } else {
            v.date("date", &self.date)?
        };
        // The start of the day: never later than now for a day that has begun, and the same
        // whenever a file is imported again (so the event keeps its id).
        let time = match self.time.trim() {
            "" => NaiveTime::from_hms_opt(0, 0, 0),
            typed => NaiveTime::parse_from_str(typed, "%H:%M")
                .or_else(|_| NaiveTime::parse_from_str(typed, "%H:%M:%S"))
                .ok()
                .or_else(|| {
                    let message = format!("'{typed}' is not a time of day (use 06:30)");
                    v.refuse_by("time", Rule::NotATime, Some(typed.into()), message);
                    None
                }),
        }?;
        let at = vietnam()
            .from_local_datetime(&date.and_time(time))
            .single()?;
        if at > now + AHEAD {
            let message = "must not be later than now";
            v.refuse_by("date", Rule::InFuture, None, message);
            return None;
        }
        if date < NaiveDate::from_ymd_opt(2000, 1, 1)? {
            let message = "must be in 2000 or later";
            v.refuse_by("date", Rule::OutOfRange, Some("2000–".into()), message);
            return None;
        }
        Some(at)
    }

    fn quantity(&self, v: &mut Validator) -> Option<(f64, &'static str)> {
        let typed = self.quantity.trim();
        if typed.is_empty() {
            return None;
        }
        let n = v.check_by("quantity", parse_quantity(typed))?;
        if n <= 0.0 {
            let message = "must be more than zero";
            v.refuse_by("quantity", Rule::Negative, None, message);
            return None;
        }
        match parse_unit(&self.unit) {
            Some(unit) => Some((n, unit)),
            None if self.unit.trim().is_empty() => Some((n, "KGM")),
            None => {
                let message = "must be kg, tấn, g, lít or cái";
                v.refuse_by("unit", Rule::NotInList, Some(self.unit.clone()), message);
                None
            }
        }
    }
}

impl Recording {
    /// The EPCIS 2.0 event, naming the lot by `lot` and the lots used by `inputs` (class ids,
    /// in the order of `self.inputs`), and the certificates it rests on by `certificates`
    /// (their addresses).
    pub fn to_event(&self, lot: &str, inputs: &[String], certificates: &[String]) -> Value {
        let mut what = json!({ "epcClass": lot });
        if let Some((n, unit)) = self.quantity {
            what["quantity"] = json!(n);
            what["uom"] = json!(unit);
        }
        let mut place = serde_json::Map::new();
        for (key, value) in [
            ("name", self.place.name.clone()),
            ("plot", self.place.plot.clone()),
            ("commune", self.place.commune.clone()),
            ("province", self.place.province.map(|p| p.name.to_owned())),
        ] {
            if let Some(value) = value {
                place.insert(key.into(), json!(value));
            }
        }
        let (step, disposition) = match self.kind {
            StepKind::Harvested | StepKind::Processed => ("commissioning", "active"),
            StepKind::Packed => ("packing", "active"),
            StepKind::Shipped => ("shipping", "in_transit"),
            StepKind::Received => ("receiving", "sellable_accessible"),
            StepKind::Recalled | StepKind::Recorded => ("other", "active"),
        };
        let mut event = json!({
            "eventTime": self.at.to_rfc3339(),
            "eventTimeZoneOffset": self.at.offset().to_string(),
            "bizStep": step,
            "disposition": disposition,
        });
        if self.kind == StepKind::Processed {
            event["type"] = json!("TransformationEvent");
            let used: Vec<Value> = inputs.iter().map(|i| json!({ "epcClass": i })).collect();
            event["inputQuantityList"] = json!(used);
            event["outputQuantityList"] = json!([what]);
        } else {
            event["type"] = json!("ObjectEvent");
            let made = self.kind == StepKind::Harvested;
            event["action"] = json!(if made { "ADD" } else { "OBSERVE" });
            event["quantityList"] = json!([what]);
        }
        if !place.is_empty() {
            event[PLACE_FIELD] = Value::Object(place);
        }
        match certificates {
            [] => {}
            [one] => event["certificationInfo"] = json!(one),
            many => event["certificationInfo"] = json!(many),
        }
        event
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::epcis::event::read_event;
    use crate::domain::epcis::hash::Prefixes;
    use crate::domain::epcis::journey::Step;

    fn now() -> DateTime<chrono::Utc> {
        "2026-12-04T08:00:00Z".parse().unwrap()
    }

    fn harvest() -> RecordingInput {
        RecordingInput {
            step: "harvested".into(),
            lot_id: Some(7),
            date: "04/12/2026".into(),
            time: "06:30".into(),
            quantity: "1.200".into(),
            unit: "kg".into(),
            place: "Vườn nhãn nhà ông Tư".into(),
            plot: "VT-TN-0451".into(),
            commune: "Hồng Nam".into(),
            province: "hung yen".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_harvest_typed_at_the_field_becomes_an_epcis_event_the_journey_reads() {
        let recording = harvest().validate(now()).unwrap();
        let event = recording.to_event(
            "urn:truyxuat:lot:3:NL-1",
            &[],
            &["https://truyxuat.vn/products/3#certificate-9".into()],
        );
        assert_eq!(event["eventTime"], "2026-12-04T06:30:00+07:00");
        assert_eq!(event["action"], "ADD");
        assert_eq!(event["quantityList"][0]["uom"], "KGM");
        assert_eq!(event["truyxuat:place"]["province"], "Hưng Yên");
        assert_eq!(
            event["certificationInfo"],
            "https://truyxuat.vn/products/3#certificate-9"
        );
        read_event(&event, &Prefixes::from_context(None), "").expect("an event EPCIS reads");
        let step = Step::of(&event).unwrap();
        assert_eq!(step.kind, StepKind::Harvested);
        assert_eq!(step.province.as_deref(), Some("Hưng Yên"));
    }

    #[test]
    fn steps_and_units_are_read_from_words_with_or_without_diacritics() {
        assert_eq!(parse_step("Thu hoạch"), Some(StepKind::Harvested));
        assert_eq!(parse_step("dong goi"), Some(StepKind::Packed));
        assert_eq!(parse_step("Shipped"), Some(StepKind::Shipped));
        assert_eq!(parse_step("thu hồi"), None);
        assert_eq!(parse_unit("Tấn"), Some("TNE"));
        assert_eq!(parse_unit("gói"), Some("H87"));
        assert_eq!(parse_unit("thùng"), None);
    }

    #[test]
    fn refuses_a_future_day_a_bad_time_no_lot_and_processing_from_nothing() {
        let e = RecordingInput {
            date: "05/12/2026".into(),
            ..harvest()
        }
        .validate(now())
        .unwrap_err();
        assert_eq!(e.error_for("date").unwrap().code, Rule::InFuture);
        let e = RecordingInput {
            time: "25:70".into(),
            lot_id: None,
            ..harvest()
        }
        .validate(now())
        .unwrap_err();
        assert_eq!(e.error_for("time").unwrap().code, Rule::NotATime);
        assert_eq!(e.error_for("lot_id").unwrap().code, Rule::Choose);
        let e = RecordingInput {
            step: "Chế biến".into(),
            inputs: vec![7],
            ..harvest()
        }
        .validate(now())
        .unwrap_err();
        assert_eq!(e.error_for("inputs").unwrap().code, Rule::Choose);
    }

    #[test]
    fn processing_names_its_input_lots_and_a_blank_time_reads_as_the_start_of_the_day() {
        let recording = RecordingInput {
            step: "Chế biến".into(),
            inputs: vec![5, 6],
            time: String::new(),
            ..harvest()
        }
        .validate(now())
        .unwrap();
        let event = recording.to_event(
            "urn:truyxuat:lot:3:LN-1",
            &["a:1".into(), "a:2".into()],
            &[],
        );
        assert_eq!(event["type"], "TransformationEvent");
        assert_eq!(event["eventTime"], "2026-12-04T00:00:00+07:00");
        assert_eq!(event["inputQuantityList"][1]["epcClass"], "a:2");
        assert_eq!(
            event["outputQuantityList"][0]["epcClass"],
            "urn:truyxuat:lot:3:LN-1"
        );
    }
}
