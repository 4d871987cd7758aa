//! GS1 identifiers as EPCIS events carry them (EPC URNs such as `urn:epc:id:sgtin:…`, or GS1
//! Digital Link URIs on any host), brought to one form: the constrained canonical Digital
//! Link on `https://id.gs1.org`, at the finest level the identifier names (a serial drops
//! the lot; a CPV and a query string go). The CBV 2.0 event hash compares identifiers in
//! this form, so that an event hashes the same whichever way a partner wrote them.

use super::super::gtin::check_digit;

const CANONICAL_HOST: &str = "https://id.gs1.org";

/// `uri` in canonical Digital Link form, or `None` when it names no GS1 key truyxuat reads
/// (GTIN with or without lot or serial, SSCC, GLN with or without extension, party GLN,
/// GDTI; not the asset, service and component keys of other industries): such values are compared as written.
pub fn canonical_digital_link(uri: &str) -> Option<String> {
    if !uri.contains('.') {
        return None;
    }
    if let Some(rest) = uri.strip_prefix("urn:epc:") {
        return from_epc_urn(rest);
    }
    from_digital_link(uri)
}

/// The digits of `s`, when it is all ASCII digits.
fn digits(s: &str) -> Option<Vec<u8>> {
    s.bytes()
        .map(|b| b.is_ascii_digit().then_some(b - b'0'))
        .collect()
}

/// `data` (digits, without the check digit) with its GS1 check digit appended.
fn with_check_digit(data: &str) -> Option<String> {
    let d = digits(data)?;
    Some(format!("{data}{}", check_digit(&d)))
}

/// A GS1 company prefix and a reference, as an EPC URN splits a key: 6 to 12 digits, and
/// together `total` digits.
fn split_key(prefix: &str, reference: &str, total: usize) -> Option<()> {
    let ok = (6..=12).contains(&prefix.len())
        && prefix.len() + reference.len() == total
        && digits(prefix).is_some()
        && digits(reference).is_some();
    ok.then_some(())
}

/// The characters GS1's AI 82 set allows in an EPC URN's serial or lot (with `%xx`), 1 to
/// 20 of them.
fn epc_component(s: &str) -> bool {
    (1..=60).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!')(*+,.:;=_-%".contains(&b))
}

/// A serial or lot as the Digital Link writes it: the characters GS1 Digital Link requires
/// to be percent-encoded, encoded.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '!' => out.push_str("%21"),
            '(' => out.push_str("%28"),
            ')' => out.push_str("%29"),
            '*' => out.push_str("%2A"),
            '+' => out.push_str("%2B"),
            ',' => out.push_str("%2C"),
            ':' => out.push_str("%3A"),
            c => out.push(c),
        }
    }
    out
}

/// A GTIN-14 from an EPC's company prefix and item reference (indicator digit first).
fn gtin(prefix: &str, item: &str) -> Option<String> {
    split_key(prefix, item, 13)?;
    with_check_digit(&format!("{}{prefix}{}", &item[..1], &item[1..]))
}

fn from_epc_urn(rest: &str) -> Option<String> {
    let mut pieces = rest.splitn(3, ':');
    let scheme = (pieces.next()?, pieces.next()?);
    let parts: Vec<&str> = pieces.next()?.splitn(3, '.').collect();
    match (scheme, parts.as_slice()) {
        (("id", "sgtin"), [prefix, item, serial]) if epc_component(serial) => Some(format!(
            "{CANONICAL_HOST}/01/{}/21/{}",
            gtin(prefix, item)?,
            percent_encode(serial)
        )),
        (("class", "lgtin"), [prefix, item, lot]) if epc_component(lot) => Some(format!(
            "{CANONICAL_HOST}/01/{}/10/{}",
            gtin(prefix, item)?,
            percent_encode(lot)
        )),
        (("idpat", "sgtin"), [prefix, item, "*"]) => {
            Some(format!("{CANONICAL_HOST}/01/{}", gtin(prefix, item)?))
        }
        (("id", "sscc"), [prefix, serial]) => {
            split_key(prefix, serial, 17)?;
            let sscc = with_check_digit(&format!("{}{prefix}{}", &serial[..1], &serial[1..]))?;
            Some(format!("{CANONICAL_HOST}/00/{sscc}"))
        }
        (("id", "sgln"), [prefix, location, extension]) => {
            split_key(prefix, location, 12)?;
            let gln = with_check_digit(&format!("{prefix}{location}"))?;
            match *extension {
                "0" => Some(format!("{CANONICAL_HOST}/414/{gln}")),
                e if epc_component(e) => Some(format!(
                    "{CANONICAL_HOST}/414/{gln}/254/{}",
                    percent_encode(e)
                )),
                _ => None,
            }
        }
        (("id", "gdti"), [prefix, kind, serial]) => {
            split_key(prefix, kind, 12)?;
            let gdti = with_check_digit(&format!("{prefix}{kind}"))?;
            (serial.is_empty() || epc_component(serial))
                .then(|| format!("{CANONICAL_HOST}/253/{gdti}{}", percent_encode(serial)))
        }
        (("id", "pgln"), [prefix, party]) => {
            split_key(prefix, party, 12)?;
            Some(format!(
                "{CANONICAL_HOST}/417/{}",
                with_check_digit(&format!("{prefix}{party}"))?
            ))
        }
        _ => None,
    }
}

/// A Digital Link path's key or qualifier by its AI, short names read as their AIs.
fn ai(segment: &str) -> &str {
    match segment {
        "gtin" => "01",
        "sscc" => "00",
        "gln" => "414",
        "party" => "417",
        "gdti" => "253",
        "lot" => "10",
        "ser" => "21",
        "cpv" => "22",
        other => other,
    }
}

/// What GS1's constrained Digital Link allows in a lot or serial: 0 to 20 of these.
fn dl_component(s: &str, max: usize) -> bool {
    s.len() <= max
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"\"'-.;<=>?_".contains(&b))
}

fn from_digital_link(uri: &str) -> Option<String> {
    let rest = uri
        .strip_prefix("https://")
        .or_else(|| uri.strip_prefix("http://"))?;
    let rest = rest.split(['?', '#']).next()?;
    let path = rest.split_once('/').map(|(_, p)| p)?;
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    // The primary key is the first segment that names one (a resolver may put a path
    // prefix before it).
    let start = segments
        .iter()
        .position(|s| matches!(ai(s), "01" | "00" | "414" | "417" | "253"))?;
    let key = ai(segments[start]);
    let value = *segments.get(start + 1)?;
    let qualifiers: Vec<(&str, &str)> = segments[start + 2..]
        .chunks(2)
        .filter_map(|pair| match pair {
            [k, v] => Some((ai(k), *v)),
            _ => None,
        })
        .collect();
    let qualifier = |name: &str| qualifiers.iter().find(|(k, _)| *k == name).map(|q| q.1);
    let canonical = match key {
        "01" => {
            digits(value)?;
            let gtin = match value.len() {
                14 => value.to_owned(),
                13 | 12 | 8 => format!("{value:0>14}"),
                _ => return None,
            };
            match (qualifier("21"), qualifier("10"), qualifier("235")) {
                (Some(serial), _, _) if dl_component(serial, 20) => {
                    format!("01/{gtin}/21/{serial}")
                }
                (None, Some(lot), _) if dl_component(lot, 20) => format!("01/{gtin}/10/{lot}"),
                (None, None, Some(tpx)) if dl_component(tpx, 28) => format!("01/{gtin}/235/{tpx}"),
                (None, None, None) => format!("01/{gtin}"),
                _ => return None,
            }
        }
        "00" if value.len() == 18 => format!("00/{}", digits(value).map(|_| value)?),
        "414" if value.len() == 13 => {
            digits(value)?;
            match qualifier("254") {
                Some(ext) if dl_component(ext, 20) => format!("414/{value}/254/{ext}"),
                Some(_) => return None,
                None => format!("414/{value}"),
            }
        }
        "417" if value.len() == 13 => format!("417/{}", digits(value).map(|_| value)?),
        "253" if value.len() >= 13 && dl_component(&value[13..], 17) => {
            digits(&value[..13])?;
            format!("253/{value}")
        }
        _ => return None,
    };
    Some(format!("{CANONICAL_HOST}/{canonical}"))
}

#[cfg(test)]
mod tests {
    use super::canonical_digital_link as canon;

    #[test]
    fn epc_urns_become_canonical_digital_links() {
        let cases = [
            (
                "urn:epc:id:sgtin:0614141.107346.2017",
                "https://id.gs1.org/01/10614141073464/21/2017",
            ),
            (
                "urn:epc:id:sgln:0614141.00777.0",
                "https://id.gs1.org/414/0614141007776",
            ),
            (
                "urn:epc:class:lgtin:4012345.012345.998877",
                "https://id.gs1.org/01/04012345123456/10/998877",
            ),
            (
                "urn:epc:idpat:sgtin:4012345.098765.*",
                "https://id.gs1.org/01/04012345987652",
            ),
            (
                "urn:epc:id:sscc:4012345.0000000333",
                "https://id.gs1.org/00/040123450000003338",
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(canon(input).as_deref(), Some(expected), "{input}");
        }
    }

    #[test]
    fn digital_links_on_any_host_come_to_id_gs1_org_at_their_finest_level() {
        assert_eq!(
            canon("https://example.com/gtin/9780345418913/ser/1?x=1").as_deref(),
            Some("https://id.gs1.org/01/09780345418913/21/1")
        );
        assert_eq!(
            canon("https://truyxuat.example.vn/01/08936012345674/10/LOT1/21/ABC").as_deref(),
            Some("https://id.gs1.org/01/08936012345674/21/ABC")
        );
    }

    #[test]
    fn values_that_name_no_gs1_key_are_left_alone() {
        for input in [
            "geo:22.1,105.3",
            "http://transaction.acme.com/po/12345678",
            "4711",
            "https://example.org/foo",
        ] {
            assert_eq!(canon(input), None, "{input}");
        }
    }
}
