//! The EPCIS 2.0 REST binding, the part traceability programmes ask for: capture a document
//! (`POST /epcis/capture`) or one event (`POST /epcis/events`), query events
//! (`GET /epcis/events` with time, identifier, step and disposition filters, paged), and read
//! one event by its id (`GET /epcis/events/{eventID}`). A document above the synchronous
//! limit becomes a capture job (202, `GET /epcis/capture/{captureID}`; `GET /epcis/capture`
//! lists the latest). Every route needs an API token; errors are problem+json naming the
//! field by JSON pointer, their `type` GS1's (`epcisException:ValidationException`…).

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use axum_extra::extract::WithRejection;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::AppState;
use super::auth::{self, ApiCaller};
use super::error::{ApiError, AppError};
use super::public::resolver::urlencode;
use crate::app::capture_jobs::{self, CAPTURE_LIMIT, SYNC_LIMIT};
use crate::app::events;
use crate::domain::epcis::event::{EventError, ReadEvent, StoredEvent, read_document, read_single};
use crate::domain::epcis::identifiers::canonical_digital_link;
use crate::domain::job::{CaptureJob, JobState};
use crate::domain::validation::Invalid;
use crate::store::EventQuery;

/// The context every document truyxuat writes names.
const CONTEXT: &str = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld";
/// Largest capture body, in bytes: room for `CAPTURE_LIMIT` events of a kilobyte or so.
const MAX_CAPTURE_BYTES: usize = 128 * 1024 * 1024;
/// Events a page holds unless `perPage` asks for fewer (GS1's default) and at most.
const PER_PAGE: i64 = 30;
const MAX_PER_PAGE: i64 = 1000;

/// The routes with their OpenAPI description, both from the handlers.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(capture, capture_jobs))
        .routes(routes!(capture_job))
        .routes(routes!(capture_one, query))
        .routes(routes!(event))
        .routes(routes!(traceback))
}

pub fn router(state: AppState) -> Router<AppState> {
    let (router, _) = routes().split_for_parts();
    router
        .layer(axum::extract::DefaultBodyLimit::max(MAX_CAPTURE_BYTES))
        .route_layer(axum::middleware::from_fn_with_state(state, auth::api_token))
        // Outermost, so that a refused token's problem is named too.
        .route_layer(axum::middleware::from_fn(gs1_problem_types))
}

/// Names each problem as GS1's EPCIS REST binding does (`epcisException:…`), so that a
/// partner's EPCIS client knows it; the status stays truyxuat's (a refused field is a 422,
/// as on the rest of the API, where GS1 says 400).
async fn gs1_problem_types(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let query = request.method() == axum::http::Method::GET;
    let mut response = next.run(request).await;
    if let Some(kind) = crate::domain::epcis::exception(response.status().as_u16(), query) {
        super::error::name_problem(&mut response, kind);
    }
    response
}

/// Bodies, query parameters and path segments refused with problem+json, as the API's are.
type Body = WithRejection<Bytes, ApiError>;
type Params<T> = WithRejection<Query<T>, ApiError>;
type Segment = WithRejection<Path<String>, ApiError>;

/// The headers of every EPCIS answer: the versions spoken, and how capture behaves.
fn epcis_headers(response: &mut Response) {
    let headers = response.headers_mut();
    for (name, value) in [
        ("gs1-epcis-version", "2.0.0"),
        ("gs1-cbv-version", "2.0.0"),
        ("gs1-capture-error-behaviour", "rollback"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    headers.insert(
        "gs1-epcis-capture-limit",
        HeaderValue::from(CAPTURE_LIMIT as u64),
    );
    headers.insert(
        "gs1-epcis-capture-file-size-limit",
        HeaderValue::from(MAX_CAPTURE_BYTES as u64),
    );
}

fn refused(e: EventError) -> ApiError {
    AppError::Invalid(Invalid::field(&e.pointer, e.message)).into()
}

fn parse_json(body: &Bytes) -> Result<Value, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| AppError::Invalid(Invalid::field("", format!("not JSON: {e}"))).into())
}

/// Captures a whole EPCIS document, all its events or none: 201 with their ids; above
/// `SYNC_LIMIT` events, checked now and captured by a job (202, its address).
#[utoipa::path(post, path = "/epcis/capture", tag = "epcis",
    request_body(description = "An EPCISDocument (EPCIS 2.0 JSON-LD) of at most 100,000 events", content = serde_json::Value, content_type = "application/json"),
    responses(
        (status = CREATED, description = "Every event captured: `{success, captured, eventIDs}`", body = serde_json::Value),
        (status = ACCEPTED, description = "Over 10,000 events: checked, and captured by a job to follow at `Location`", body = serde_json::Value, headers(("Location" = String, description = "The capture job"))),
    )
)]
async fn capture(
    ApiCaller(caller): ApiCaller,
    State(s): State<AppState>,
    WithRejection(body, _): Body,
) -> Result<Response, ApiError> {
    let doc = parse_json(&body)?;
    let count = doc
        .pointer("/epcisBody/eventList")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    if count > CAPTURE_LIMIT {
        return Err(AppError::TooLarge(format!(
            "{count} events: a capture takes at most {CAPTURE_LIMIT} (GS1-EPCIS-Capture-Limit)"
        ))
        .into());
    }
    let read = read_document(&doc).map_err(refused)?;
    drop(doc);
    if count > SYNC_LIMIT {
        drop(read);
        let id = capture_jobs::queue(&s.app, &caller, body.to_vec(), count).await?;
        s.capture_jobs.ring();
        let location = format!("/epcis/capture/{id}");
        let mut response = (
            StatusCode::ACCEPTED,
            [(header::LOCATION, location)],
            Json(json!({ "captureID": id.to_string(), "events": count })),
        )
            .into_response();
        epcis_headers(&mut response);
        return Ok(response);
    }
    let pointers: Vec<String> = (0..read.len())
        .map(|i| format!("/epcisBody/eventList/{i}"))
        .collect();
    let ids = events::capture(&s.app, &caller, &read, &pointers).await?;
    let mut response = (
        StatusCode::CREATED,
        Json(json!({ "success": true, "captured": ids.len(), "eventIDs": ids })),
    )
        .into_response();
    epcis_headers(&mut response);
    Ok(response)
}

/// A capture job as GS1's capture interface describes it: running or not, and when it
/// ended, whether it succeeded, and why not.
fn capture_job_json(job: &CaptureJob) -> Value {
    let at = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Millis, true);
    let errors: Vec<Value> = job
        .error
        .iter()
        .filter_map(|e| serde_json::from_str(e).ok())
        .collect();
    let mut answer = json!({
        "captureID": job.id.to_string(),
        "createdAt": at(job.created_at),
        "running": matches!(job.state, JobState::Queued | JobState::Running),
        "success": job.state == JobState::Done,
        "captureErrorBehaviour": "rollback",
        "events": job.events,
        "captured": job.captured,
        "errors": errors,
    });
    if let Some(t) = job.finished_at {
        answer["finishedAt"] = json!(at(t));
    }
    answer
}

/// The sender's capture jobs (GS1's `GET /capture`): the latest hundred, newest first.
#[utoipa::path(get, path = "/epcis/capture", tag = "epcis",
    responses((status = OK, description = "Capture jobs, newest first: `captureID`, `running`, `success`, `errors`…", body = Vec<serde_json::Value>))
)]
async fn capture_jobs(
    ApiCaller(caller): ApiCaller,
    State(s): State<AppState>,
) -> Result<Response, ApiError> {
    let jobs = capture_jobs::jobs(&s.app, &caller).await?;
    let mut response = Json(jobs.iter().map(capture_job_json).collect::<Vec<_>>()).into_response();
    epcis_headers(&mut response);
    Ok(response)
}

/// One capture job: whether it still runs, and how it ended.
#[utoipa::path(get, path = "/epcis/capture/{captureID}", tag = "epcis",
    params(("captureID" = String, Path, description = "The job, as `POST /epcis/capture` named it")),
    responses((status = OK, description = "The job: `running`, `success`, `captured`, `errors` (problems naming each event by JSON pointer)", body = serde_json::Value))
)]
async fn capture_job(
    ApiCaller(caller): ApiCaller,
    State(s): State<AppState>,
    WithRejection(Path(capture_id), _): Segment,
) -> Result<Response, ApiError> {
    let id: i64 = capture_id
        .parse()
        .map_err(|_| AppError::from(crate::app::Error::NotFound("capture job")))?;
    let job = capture_jobs::job(&s.app, &caller, id).await?;
    let mut response = Json(capture_job_json(&job)).into_response();
    epcis_headers(&mut response);
    Ok(response)
}

/// Captures one event: 201, its location, and the event as stored.
#[utoipa::path(post, path = "/epcis/events", tag = "epcis",
    request_body(description = "One EPCIS 2.0 event (ObjectEvent, AggregationEvent or TransformationEvent)", content = serde_json::Value, content_type = "application/json"),
    responses((status = CREATED, description = "The event as stored, with its CBV 2.0 hash id", body = serde_json::Value, headers(("Location" = String, description = "The event"))))
)]
async fn capture_one(
    ApiCaller(caller): ApiCaller,
    State(s): State<AppState>,
    WithRejection(body, _): Body,
) -> Result<Response, ApiError> {
    let event: ReadEvent = read_single(&parse_json(&body)?).map_err(refused)?;
    let ids = events::capture(
        &s.app,
        &caller,
        std::slice::from_ref(&event),
        &[String::new()],
    )
    .await?;
    let stored = events::by_id(&s.app, &ids[0]).await?;
    let location = format!("/epcis/events/{}", urlencode(&ids[0]));
    let mut response = (
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(stored.last().map(StoredEvent::to_json)),
    )
        .into_response();
    epcis_headers(&mut response);
    Ok(response)
}

/// `GET /epcis/events`'s parameters: lists are `|`-separated, as GS1's binding writes them.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
struct QueryParams {
    /// Events at or after this time (RFC 3339, with its offset).
    #[serde(rename = "GE_eventTime")]
    ge_event_time: Option<String>,
    /// Events before this time.
    #[serde(rename = "LT_eventTime")]
    lt_event_time: Option<String>,
    /// Events recorded at or after this time.
    #[serde(rename = "GE_recordTime")]
    ge_record_time: Option<String>,
    /// Events recorded before this time.
    #[serde(rename = "LT_recordTime")]
    lt_record_time: Option<String>,
    /// Events naming any of these instances (`|`-separated; Digital Links or EPC URNs).
    #[serde(rename = "MATCH_anyEPC")]
    match_any_epc: Option<String>,
    /// Events naming any of these classes, lots for instance (`|`-separated).
    #[serde(rename = "MATCH_anyEPCClass")]
    match_any_epc_class: Option<String>,
    /// Events of any of these business steps (`|`-separated CBV words or URIs).
    #[serde(rename = "EQ_bizStep")]
    eq_biz_step: Option<String>,
    /// Events of any of these dispositions (`|`-separated).
    #[serde(rename = "EQ_disposition")]
    eq_disposition: Option<String>,
    /// Events a page holds: 1 to 1000, 30 unless given.
    per_page: Option<String>,
    /// Where the next page starts, as the previous page's `Link` gave it.
    next_page_token: Option<String>,
}

fn bad_parameter(name: &str, message: &str) -> ApiError {
    AppError::Invalid(Invalid::field(name, message)).into()
}

fn time(name: &str, value: &Option<String>) -> Result<Option<DateTime<Utc>>, ApiError> {
    value
        .as_deref()
        .map(|v| {
            DateTime::parse_from_rfc3339(v)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| bad_parameter(name, "a date and time with its offset (RFC 3339)"))
        })
        .transpose()
}

/// A `|`-separated list, identifiers brought to their canonical form.
fn list(value: &Option<String>, canonical: bool) -> Vec<String> {
    value
        .as_deref()
        .map(|v| {
            v.split('|')
                .filter(|s| !s.is_empty())
                .map(|s| match canonical {
                    true => canonical_digital_link(s).unwrap_or_else(|| s.to_owned()),
                    false => s.to_owned(),
                })
                .collect()
        })
        .unwrap_or_default()
}

impl QueryParams {
    fn query(&self) -> Result<EventQuery, ApiError> {
        let limit = match self.per_page.as_deref() {
            None => PER_PAGE,
            Some(n) => match n.parse::<i64>() {
                Ok(n) if (1..=MAX_PER_PAGE).contains(&n) => n,
                _ => return Err(bad_parameter("perPage", "a number from 1 to 1000")),
            },
        };
        let after =
            match self.next_page_token.as_deref() {
                None => None,
                Some(t) => Some(t.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
                    bad_parameter("nextPageToken", "not a token this service gave")
                })?),
            };
        Ok(EventQuery {
            ge_event_time: time("GE_eventTime", &self.ge_event_time)?,
            lt_event_time: time("LT_eventTime", &self.lt_event_time)?,
            ge_record_time: time("GE_recordTime", &self.ge_record_time)?,
            lt_record_time: time("LT_recordTime", &self.lt_record_time)?,
            any_epc: list(&self.match_any_epc, true),
            any_class: list(&self.match_any_epc_class, true),
            biz_steps: list(&self.eq_biz_step, false),
            dispositions: list(&self.eq_disposition, false),
            after,
            limit,
            newest_first: false,
        })
    }
}

/// An EPCIS query document listing `events`.
pub fn query_document(events: &[StoredEvent], now: DateTime<Utc>) -> Value {
    let list: Vec<Value> = events.iter().map(StoredEvent::to_json).collect();
    json!({
        "@context": [CONTEXT],
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "creationDate": now.to_rfc3339_opts(SecondsFormat::Millis, true),
        "epcisBody": {"queryResults": {
            "queryName": "SimpleEventQuery",
            "resultsBody": {"eventList": list}
        }}
    })
}

/// Events matching the parameters, a page at a time (`Link: <…>; rel="next"` while more
/// may follow).
#[utoipa::path(get, path = "/epcis/events", tag = "epcis",
    params(QueryParams),
    responses((status = OK, description = "An EPCISQueryDocument of the events, in the order they were recorded", body = serde_json::Value, headers(("Link" = String, description = "`<…>; rel=\"next\"` while more may follow"))))
)]
async fn query(
    ApiCaller(_caller): ApiCaller,
    State(s): State<AppState>,
    raw: axum::extract::RawQuery,
    WithRejection(Query(params), _): Params<QueryParams>,
) -> Result<Response, ApiError> {
    let q = params.query()?;
    let found = events::find(&s.app, &q).await?;
    let now = s.clock.now();
    let mut response = Json(query_document(&found, now)).into_response();
    if found.len() as i64 == q.limit {
        if let Some(last) = found.last() {
            let kept: Vec<&str> = raw
                .0
                .as_deref()
                .unwrap_or_default()
                .split('&')
                .filter(|p| !p.is_empty() && !p.starts_with("nextPageToken="))
                .collect();
            let mut next = kept.join("&");
            if !next.is_empty() {
                next.push('&');
            }
            let link = format!(
                "</epcis/events?{next}nextPageToken={}>; rel=\"next\"",
                last.id
            );
            if let Ok(v) = HeaderValue::from_str(&link) {
                response.headers_mut().insert(header::LINK, v);
            }
        }
    }
    epcis_headers(&mut response);
    Ok(response)
}

/// One event and its error declarations, as a query document.
#[utoipa::path(get, path = "/epcis/events/{eventID}", tag = "epcis",
    params(("eventID" = String, Path, description = "The event's id (its CBV 2.0 hash id, `ni:///sha-256;…`)")),
    responses((status = OK, description = "An EPCISQueryDocument of the event and its error declarations", body = serde_json::Value))
)]
async fn event(
    ApiCaller(_caller): ApiCaller,
    State(s): State<AppState>,
    WithRejection(Path(event_id), _): Segment,
) -> Result<Response, ApiError> {
    let found = events::by_id(&s.app, &event_id).await?;
    let mut response = Json(query_document(&found, s.clock.now())).into_response();
    epcis_headers(&mut response);
    Ok(response)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct TracebackParams {
    /// The lot, by its class id (a GS1 Digital Link or EPC class URN, or truyxuat's own).
    #[serde(rename = "epcClass")]
    epc_class: String,
}

/// A lot's whole chain, back through transformations to the fields, as one query document.
#[utoipa::path(get, path = "/epcis/traceback", tag = "epcis",
    params(TracebackParams),
    responses((status = OK, description = "An EPCISQueryDocument of every event of the lot's chain", body = serde_json::Value))
)]
async fn traceback(
    ApiCaller(_caller): ApiCaller,
    State(s): State<AppState>,
    WithRejection(Query(params), _): Params<TracebackParams>,
) -> Result<Response, ApiError> {
    let class = canonical_digital_link(&params.epc_class).unwrap_or(params.epc_class);
    let chain = events::traceback(&s.app, &class).await?;
    let mut doc = query_document(&chain, s.clock.now());
    doc["epcisBody"]["queryResults"]["queryName"] = json!("Traceback");
    let mut response = Json(doc).into_response();
    epcis_headers(&mut response);
    Ok(response)
}
