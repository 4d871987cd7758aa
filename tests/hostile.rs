//! Hostile text (`tests/fixtures/hostile-text.jsonl`) in every field a person can type:
//! refused with a 422 naming the field where no product should keep it, and otherwise
//! stored as typed and shown whole, on every public page, in the JSON-LD, on labels and
//! in the terminal.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::support::cli_env::CliEnv;
use crate::support::http::{Reply, TestApp};

/// One line of the fixture file.
struct Hostile {
    name: String,
    text: String,
}

impl Hostile {
    /// Whether a one-line field of at most `max_chars` characters refuses this text.
    fn refused_in_one_line(&self, max_chars: usize) -> bool {
        self.text.chars().count() > max_chars || REFUSED_ONE_LINE.contains(&self.name.as_str())
    }
}

fn fixtures() -> Vec<Hostile> {
    include_str!("fixtures/hostile-text.jsonl")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("fixture line");
            Hostile {
                name: v["name"].as_str().unwrap().to_owned(),
                text: v["text"].as_str().unwrap().to_owned(),
            }
        })
        .collect()
}

/// Fixtures no one-line field keeps (a multi-line field takes the line breaks).
const REFUSED_ONE_LINE: [&str; 9] = [
    "tab-newline-description",
    "nul",
    "escape-sequence",
    "c1-control",
    "bidi-override",
    "line-separators",
    "crlf",
    "long",
    "only-space",
];
const REFUSED_MULTI_LINE: [&str; 5] = [
    "nul",
    "escape-sequence",
    "c1-control",
    "bidi-override",
    "long",
];

/// A valid GTIN-13 for `n`: 893458801 and three digits, with its check digit.
fn gtin(n: usize) -> String {
    let body = format!("893458801{n:03}");
    let sum: u32 = body
        .chars()
        .rev()
        .enumerate()
        .map(|(i, c)| c.to_digit(10).unwrap() * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

async fn created(app: &TestApp, path: &str, body: Value) -> i64 {
    let reply = app.api("POST", path, body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{path}: {}", reply.body);
    reply.json()["id"].as_i64().unwrap()
}

/// A producer, an authority, a product with a GTIN, a certificate and a lot, every text
/// field from `base` unless `field` of `kind` is given `value`.
fn bodies(producer: i64, issuer: i64, n: usize) -> [(&'static str, Value); 4] {
    [
        (
            "/api/v1/organizations",
            json!({"kind": "cooperative", "name": format!("HTX {n}"), "province": "Lâm Đồng",
                   "address": "Thôn 2", "phone": "0263 3820 123"}),
        ),
        (
            "/api/v1/products",
            json!({"producer_id": producer, "name": format!("Chè {n}"), "category": "Chè",
                   "unit": "hộp 200 g", "description": "Dòng 1", "gtin": gtin(n),
                   "growing_area_code": "VT-68"}),
        ),
        (
            "/api/v1/certifications",
            json!({"holder_id": producer, "issuer_id": issuer, "kind": "vietgap",
                   "number": format!("VG-{n}"), "scope": "Chè, 2 ha",
                   "issued_on": "2025-07-01", "valid_until": "2027-06-30"}),
        ),
        (
            "/api/v1/lots",
            json!({"product_id": 0, "code": format!("L{n}"), "produced_on": "2026-10-01",
                   "growing_area": "Đồi chè", "commune": "Lạc Dương", "province": "lam-dong"}),
        ),
    ]
}

/// A text field: its name, whether it takes several lines, and its length limit.
type Field = (&'static str, bool, usize);

/// The text fields of each entity.
const FIELDS: [(&str, &[Field]); 4] = [
    (
        "/api/v1/organizations",
        &[("name", false, 200), ("address", false, 300)],
    ),
    (
        "/api/v1/products",
        &[
            ("name", false, 200),
            ("category", false, 100),
            ("unit", false, 30),
            ("description", true, 5000),
            ("growing_area_code", false, 40),
        ],
    ),
    (
        "/api/v1/certifications",
        &[("number", false, 100), ("scope", true, 1000)],
    ),
    (
        "/api/v1/lots",
        &[("growing_area", false, 200), ("commune", false, 100)],
    ),
];

#[tokio::test]
async fn every_text_field_refuses_controls_bidi_and_line_breaks_by_name() {
    let app = TestApp::new().await;
    let producer = created(&app, "/api/v1/organizations", bodies(0, 0, 0)[0].1.clone()).await;
    let authority = created(
        &app,
        "/api/v1/organizations",
        json!({"kind": "department", "name": "Sở NN&MT", "province": "Lâm Đồng"}),
    )
    .await;
    let mut n = 1;
    for hostile in fixtures() {
        for (path, fields) in FIELDS {
            for (field, multiline, max) in fields.iter().copied() {
                n += 1;
                let [org, product, cert, lot] = bodies(producer, authority, n);
                let mut body = match path {
                    "/api/v1/organizations" => org.1,
                    "/api/v1/products" => product.1,
                    "/api/v1/certifications" => cert.1,
                    _ => {
                        let product_id = created(&app, "/api/v1/products", product.1).await;
                        let mut lot = lot.1;
                        lot["product_id"] = json!(product_id);
                        lot
                    }
                };
                body[field] = json!(hostile.text);
                let reply = app.api("POST", path, body).await;
                let refused = hostile.text.chars().count() > max
                    || if multiline {
                        REFUSED_MULTI_LINE.contains(&hostile.name.as_str())
                    } else {
                        REFUSED_ONE_LINE.contains(&hostile.name.as_str())
                    };
                // An optional field left blank is simply absent.
                let blank_optional = hostile.name == "only-space"
                    && [
                        "address",
                        "description",
                        "growing_area_code",
                        "scope",
                        "growing_area",
                        "commune",
                    ]
                    .contains(&field);
                let what = format!("{} in {path} {field}", hostile.name);
                if refused && !blank_optional {
                    assert_eq!(
                        reply.status,
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "{what}: {}",
                        reply.body
                    );
                    assert_eq!(reply.problem_fields(), vec![field], "{what}");
                } else {
                    assert_eq!(reply.status, StatusCode::CREATED, "{what}: {}", reply.body);
                    let stored = &reply.json()[field];
                    assert!(
                        !stored
                            .as_str()
                            .unwrap_or_default()
                            .contains(['\0', '\u{202E}', '\u{1b}']),
                        "{what}: {stored}"
                    );
                }
            }
        }
    }
    // A multi-line field keeps its lines.
    let [_, product, ..] = bodies(producer, authority, 999);
    let mut product = product.1;
    product["description"] = json!("Dòng 1\r\n\tDòng 2");
    let reply = app.api("POST", "/api/v1/products", product).await;
    assert_eq!(reply.json()["description"], "Dòng 1\nDòng 2");
    // An import names the entity and field of each refusal; nothing is stored.
    let bundle = json!({
        "organizations": [{"key": "a", "kind": "cooperative", "name": "Nul\u{0}byte", "province": "Lâm Đồng"}],
        "products": [{"key": "p", "producer": "a", "name": "VG-2025-\u{202e}1420", "category": "Chè", "unit": "hộp"}]
    });
    let reply = app.api("POST", "/api/v1/import", bundle).await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    assert_eq!(
        reply.problem_fields(),
        vec!["organizations[0].name", "products[0].name"]
    );
    // A search holding a NUL or a control finds, and fails, nothing.
    for q in ["%00", "%1B%5B2J", "%E2%80%AE"] {
        let page = app.get(&format!("/?q={q}")).await;
        assert_eq!(page.status, StatusCode::OK, "{q}");
    }
    let listed = app.api_get("/api/v1/products?q=%00").await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
}

/// The path of the one label of a new batch of `product`'s lot `lot`.
async fn label_path(app: &TestApp, product: i64, lot: &str) -> String {
    crate::support::labels::mint(app, product, 1, Some(lot))
        .await
        .remove(0)
}

/// The page is whole: parsed as HTML5 does, it has its verdict (when it shows one), the
/// product's name as stored, and a JSON-LD block that is JSON with that name.
fn assert_whole(page: &Reply, verdict: Option<&str>, name: &str, what: &str) {
    assert_eq!(page.status, StatusCode::OK, "{what}");
    if let Some(verdict) = verdict {
        assert_eq!(page.texts("#verdict strong"), vec![verdict], "{what}");
    }
    assert_eq!(page.texts("#product h1"), vec![name.to_owned()], "{what}");
    assert!(!page.texts("#certifications .cert").is_empty(), "{what}");
    let scripts = page.texts("script[type='application/ld+json']");
    assert_eq!(scripts.len(), 1, "{what}");
    let ld: Value = serde_json::from_str(&scripts[0]).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(ld["name"], name, "{what}");
    assert!(
        !scripts[0].contains(['<', '>', '&']),
        "{what}: {}",
        scripts[0]
    );
}

#[tokio::test]
async fn hostile_names_leave_every_public_page_whole() {
    let app = TestApp::new().await;
    for (n, hostile) in fixtures().into_iter().enumerate() {
        if REFUSED_ONE_LINE.contains(&hostile.name.as_str()) {
            continue;
        }
        let text = &hostile.text;
        let what = &hostile.name;
        let [org, product, cert, lot] = bodies(0, 0, n);
        let mut org = org.1;
        org["name"] = json!(text);
        org["address"] = json!(text);
        let producer = created(&app, "/api/v1/organizations", org.clone()).await;
        let authority = created(
            &app,
            "/api/v1/organizations",
            json!({"kind": "department", "name": text, "province": "Lâm Đồng"}),
        )
        .await;
        let mut product = product.1;
        product["producer_id"] = json!(producer);
        product["name"] = json!(text);
        product["category"] = json!(text);
        product["description"] = json!(text);
        let reply = app.api("POST", "/api/v1/products", product).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{what}: {}", reply.body);
        let stored_name = reply.json()["name"].as_str().unwrap().to_owned();
        let product_id = reply.json()["id"].as_i64().unwrap();
        let mut cert = cert.1;
        cert["holder_id"] = json!(producer);
        cert["issuer_id"] = json!(authority);
        cert["product_id"] = json!(product_id);
        cert["number"] = json!(text);
        cert["scope"] = json!(text);
        created(&app, "/api/v1/certifications", cert).await;
        let mut lot = lot.1;
        lot["product_id"] = json!(product_id);
        lot["growing_area"] = json!(text);
        lot["commune"] = json!(text);
        let lot_code = lot["code"].as_str().unwrap().to_owned();
        created(&app, "/api/v1/lots", lot).await;

        let path = label_path(&app, product_id, &lot_code).await;
        let scan = app.get(&path).await;
        assert_whole(&scan, Some("Tem chính hãng"), &stored_name, what);
        let english = app.get_with(&path, "accept-language", "en").await;
        assert_whole(&english, Some("Genuine label"), &stored_name, what);
        let info = app.get(&format!("/products/{product_id}")).await;
        assert_whole(&info, None, &stored_name, what);
        let home = app.get("/").await;
        assert_eq!(home.status, StatusCode::OK, "{what}");
        assert!(home.texts(".card strong").contains(&stored_name), "{what}");
    }
}

/// Names stored before the checks existed (written here straight into the database) still
/// never reach the terminal as control characters.
#[tokio::test]
async fn the_cli_prints_no_control_character() {
    let env = CliEnv::new();
    let (_, uris) = env.demo_batch(1);
    let uri = &uris[0];
    let evil = "Evil\u{1b}[2J\u{1b}[31mRED\u{1b}]0;pwned\u{7}\u{9b}1m\u{202e}gnp.exe";
    let pool = sqlx::SqlitePool::connect(&env.db_url()).await.unwrap();
    sqlx::query("UPDATE products SET name = $1 WHERE id = 1")
        .bind(evil)
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    for args in [
        vec!["products"],
        vec!["products", "--json"],
        vec!["verify", uri.trim()],
        vec!["verify", "--json", uri.trim()],
    ] {
        let out = env.run(&args);
        assert!(out.status.success(), "{args:?}");
        let printed = String::from_utf8(out.stdout).unwrap();
        assert!(printed.contains("Evil"), "{args:?}: {printed}");
        let bad: Vec<char> = printed
            .chars()
            .filter(|c| (c.is_control() && *c != '\n') || ('\u{202a}'..='\u{202e}').contains(c))
            .collect();
        assert!(bad.is_empty(), "{args:?} printed {bad:?}");
    }
    // JSON stays the same value once its escapes are read.
    let json: Value = serde_json::from_str(&env.ok(&["verify", "--json", uri.trim()])).unwrap();
    assert_eq!(json["product"]["name"], evil);
    // An import with such a name is refused, naming the field, and the message is safe too.
    let file = env.path("evil.json");
    std::fs::write(
        &file,
        json!({"organizations": [{"key": "a", "kind": "cooperative", "name": evil, "province": "Lâm Đồng"}]})
            .to_string(),
    )
    .unwrap();
    let out = env.run(&["import", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let said = String::from_utf8(out.stderr).unwrap();
    assert!(said.contains("organizations[0].name"), "{said}");
    assert!(!said.contains('\u{1b}'), "{said}");
}

/// The texts of people and their decisions: the name and login an invited person types, a
/// login at the sign-in form, the reason of a suspension or a recall.
#[tokio::test]
async fn people_and_decisions_refuse_hostile_text_by_name() {
    use truyxuat::app::{Caller, access};
    use truyxuat::domain::people::{Membership, Role};
    let app = TestApp::new().await;
    let coop = created(&app, "/api/v1/organizations", bodies(0, 0, 0)[0].1.clone()).await;
    let product = created(&app, "/api/v1/products", bodies(coop, 0, 1)[1].1.clone()).await;
    let operator = app.console_login().await;
    for (n, hostile) in fixtures().into_iter().enumerate() {
        let one_line_refused = hostile.refused_in_one_line(100);
        let what = &hostile.name;

        // At the sign-in form, a hostile login is only a wrong login.
        let login = app
            .post_form(
                "/login",
                &[("login", &hostile.text), ("password", &hostile.text)],
                None,
            )
            .await;
        assert_eq!(
            login.status,
            StatusCode::UNAUTHORIZED,
            "{what}: {}",
            login.body
        );
        assert!(login.texts(".alert").len() == 1, "{what}");

        // An invited person's name: refused beside its field, or their account is made.
        let secret = access::invite(
            &app.app,
            &Caller::cli(),
            &Membership::of(coop, Role::Viewer),
        )
        .await
        .unwrap();
        let email = format!("nguoi{n}@htx.vn");
        let accepted = app
            .post_form(
                &format!("/link/{secret}"),
                &[
                    ("display_name", &hostile.text),
                    ("login", &email),
                    ("password", "một mật khẩu dài"),
                ],
                None,
            )
            .await;
        if one_line_refused {
            assert_eq!(
                accepted.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{what}: {}",
                accepted.body
            );
            assert_eq!(accepted.texts("#display_name-error").len(), 1, "{what}");
        } else {
            assert_eq!(
                accepted.status,
                StatusCode::SEE_OTHER,
                "{what}: {}",
                accepted.body
            );
        }
        // A hostile login is refused beside its field.
        let secret = access::invite(
            &app.app,
            &Caller::cli(),
            &Membership::of(coop, Role::Viewer),
        )
        .await
        .unwrap();
        let refused = app
            .post_form(
                &format!("/link/{secret}"),
                &[
                    ("display_name", "Người mới"),
                    ("login", &hostile.text),
                    ("password", "một mật khẩu dài"),
                ],
                None,
            )
            .await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{what}: {}",
            refused.body
        );
        assert_eq!(refused.texts("#login-error").len(), 1, "{what}");

        // A suspension's reason and a recall's (one line, up to 500 characters).
        let refused = hostile.refused_in_one_line(500);
        let reply = app
            .api(
                "POST",
                &format!("/api/v1/organizations/{coop}/suspend"),
                json!({"reason": hostile.text}),
            )
            .await;
        if refused {
            assert_eq!(
                reply.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{what}: {}",
                reply.body
            );
            assert_eq!(reply.problem_fields(), vec!["reason"], "{what}");
        } else {
            assert_eq!(reply.status, StatusCode::OK, "{what}: {}", reply.body);
            let back = app
                .api(
                    "POST",
                    &format!("/api/v1/organizations/{coop}/reinstate"),
                    json!({}),
                )
                .await;
            assert_eq!(back.status, StatusCode::OK, "{what}: {}", back.body);
        }

        let code = format!("HOSTILE-{n}");
        let lot = created(
            &app,
            "/api/v1/lots",
            json!({"product_id": product, "code": code, "produced_on": "2026-10-01"}),
        )
        .await;
        let reply = app
            .api(
                "POST",
                &format!("/api/v1/lots/{lot}/recall"),
                json!({"reason": hostile.text}),
            )
            .await;
        if refused {
            assert_eq!(
                reply.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{what}: {}",
                reply.body
            );
            assert_eq!(reply.problem_fields(), vec!["reason"], "{what}");
        } else {
            assert_eq!(reply.status, StatusCode::OK, "{what}: {}", reply.body);
            assert!(reply.json()["recalled_at"].is_string(), "{what}");
        }

        // A recall's contact (one line, up to 300 characters) and the note that closes it
        // (several lines, up to 1,000), and the inspector's page of the lot that shows both.
        let code = format!("HOSTILE-GS1-{n}");
        let lot = created(
            &app,
            "/api/v1/lots",
            json!({"product_id": product, "code": code, "produced_on": "2026-10-01"}),
        )
        .await;
        let recall = |contact: &str| {
            json!({"lot_ids": [lot], "reason_code": "FOREIGN_MATTER", "reason": "Dị vật",
                   "risk_class": 2, "contact": contact})
        };
        let mut reply = app
            .api("POST", "/api/v1/recalls", recall(&hostile.text))
            .await;
        if hostile.refused_in_one_line(300) {
            assert_eq!(
                reply.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{what}: {}",
                reply.body
            );
            assert_eq!(reply.problem_fields(), vec!["contact"], "{what}");
            reply = app
                .api("POST", "/api/v1/recalls", recall("Chi cục QLCL"))
                .await;
        }
        assert_eq!(reply.status, StatusCode::CREATED, "{what}: {}", reply.body);
        let opened = reply.json();
        let close = format!("/api/v1/recalls/{}/close", opened["id"]);
        let closed = app.api("POST", &close, json!({"note": hostile.text})).await;
        let note_refused = hostile.text.chars().count() > 1000
            || hostile.text.trim().is_empty()
            || REFUSED_MULTI_LINE.contains(&hostile.name.as_str());
        if note_refused {
            assert_eq!(
                closed.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{what}: {}",
                closed.body
            );
            assert_eq!(closed.problem_fields(), vec!["note"], "{what}");
        } else {
            assert_eq!(closed.status, StatusCode::OK, "{what}: {}", closed.body);
        }
        let page = app
            .get_with(&format!("/inspect/lots/{lot}"), "cookie", &operator.cookie)
            .await;
        assert_eq!(page.status, StatusCode::OK, "{what}");
        // What each field holds, as the page shows it (white space as HTML folds it).
        let folded = |t: &str| t.split_whitespace().collect::<Vec<_>>().join(" ");
        let shown: Vec<String> = page
            .texts(&format!("#recall-{} dd", opened["id"]))
            .iter()
            .map(|t| folded(t))
            .collect();
        let contact = folded(opened["contact"].as_str().unwrap());
        assert!(shown.contains(&contact), "{what}: {shown:?}");
        if !note_refused {
            let note = folded(closed.json()["close_note"].as_str().unwrap());
            assert!(shown.contains(&note), "{what}: {shown:?}");
        }
    }
}

/// The lot diary's place names, typed on a phone: a fixture no one-line field keeps (or one
/// longer than 120 characters) is refused beside the field and nothing is recorded; any other
/// is recorded, cleaned, and shown escaped in the diary and on the shopper's page.
#[tokio::test]
async fn the_lot_diary_refuses_or_escapes_every_hostile_place_name() {
    use crate::console_events::{harvest, longan, post};
    use truyxuat::domain::people::Role;
    let app = TestApp::with_demo().await;
    let longan = longan(&app).await;
    let editor = app
        .member("bientap@nhanlong.vn", longan.producer, Role::Editor)
        .await;
    // The scripts and images of the diary's page as it is made.
    let elements = |page: &Reply| {
        let html = page.html();
        ["script", "img"].map(|e| html.select(&scraper::Selector::parse(e).unwrap()).count())
    };
    let before = elements(
        &app.get_with("/console/events", "cookie", &editor.cookie)
            .await,
    );
    for (n, hostile) in fixtures().into_iter().enumerate() {
        let what = &hostile.name;
        let mut fields = harvest(&longan.fresh.to_string());
        fields[2].1 = format!("06:{n:02}");
        fields[5].1 = hostile.text.clone();
        let reply = post(&app, &fields, &editor).await;
        let blank = hostile.text.trim().is_empty() || what == "only-space";
        let refused = !blank && hostile.refused_in_one_line(120);
        if refused {
            assert_eq!(
                reply.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{what}: {}",
                reply.body
            );
            assert_eq!(reply.texts("#place-error").len(), 1, "{what}");
            continue;
        }
        assert_eq!(
            reply.status,
            StatusCode::SEE_OTHER,
            "{what}: {}",
            reply.body
        );
        let diary = app
            .get_with("/console/events", "cookie", &editor.cookie)
            .await;
        // Markup stays text: no element of it reaches the page.
        assert_eq!(diary.status, StatusCode::OK, "{what}");
        assert_eq!(elements(&diary), before, "{what}");
        if hostile.text.contains('<') {
            assert!(
                !diary.body.contains(hostile.text.trim()),
                "{what}: unescaped"
            );
        }
        let line = &diary.texts("#diary li")[0];
        if !blank {
            let shown = truyxuat::domain::text::clean(&hostile.text);
            assert!(line.contains(&shown), "{what}: {line}");
        }
    }
}
