//! The HTTP surface: Twilio's paths for Participants, Conferences and Calls, plus the
//! unauthenticated `GET /sandbox/stats` and `POST /sandbox/outage?seconds=N`. Handlers parse,
//! lock the state once, and answer.

use super::Shared;
use super::callbacks;
use super::calls::{CallFilter, ConferenceJson};
use super::failure::{CODE_INVALID_PARAMETER, Failure};
use super::faults::{self, CreateFault};
use super::paging::PageRequest;
use super::participants::ParticipantFilter;
use super::stats::SandboxStats;
use crate::domain::ConferenceTarget;
use crate::twilio::resource::{CallPage, ParticipantPage};
use crate::twilio::values::ParamValue;
use crate::twilio::{Call, CreateParticipant, ParamError, Participant, ParticipantUpdate};
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router, middleware};
use bytes::Bytes;
use std::sync::Arc;
use std::time::Instant;

const ACCOUNT: &str = "/2010-04-01/Accounts/{account}";

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(
            &format!("{ACCOUNT}/Conferences/{{conference}}/Participants.json"),
            get(list_participants).post(create_participant),
        )
        .route(
            &format!("{ACCOUNT}/Conferences/{{conference}}/Participants/{{participant}}"),
            get(fetch_participant)
                .post(update_participant)
                .delete(delete_participant),
        )
        .route(
            &format!("{ACCOUNT}/Conferences/{{conference}}"),
            get(fetch_conference),
        )
        .route(&format!("{ACCOUNT}/Calls.json"), get(list_calls))
        .route(&format!("{ACCOUNT}/Calls/{{call}}"), get(fetch_call))
        .route("/sandbox/stats", get(stats))
        .route("/sandbox/outage", post(outage))
        .fallback(async || Failure::not_found())
        .method_not_allowed_fallback(async || Failure::method_not_allowed())
        .layer(middleware::from_fn_with_state(shared.clone(), faults::gate))
        .with_state(shared)
}

/// `CA….json` → `CA…`: resource names end in `.json`; anything else is not found.
fn json_name(segment: &str) -> Result<&str, Failure> {
    segment.strip_suffix(".json").ok_or_else(Failure::not_found)
}

fn form(body: &[u8]) -> Result<Vec<(String, String)>, Failure> {
    serde_urlencoded::from_bytes(body).map_err(|e| {
        Failure::bad_request(CODE_INVALID_PARAMETER, format!("unreadable form body: {e}"))
    })
}

fn query_pairs(query: Option<String>) -> Result<Vec<(String, String)>, Failure> {
    form(query.unwrap_or_default().as_bytes())
}

async fn create_participant(
    State(shared): State<Arc<Shared>>,
    Path((_, conference)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let fault = CreateFault::choose(&shared.config, shared.state().draw());
    if fault == Some(CreateFault::ServerError) {
        return Failure::internal().into_response();
    }
    let created = ConferenceTarget::parse(&conference)
        .map_err(|rule| Failure::invalid_param(&ParamError::new("ConferenceSid", rule)))
        .and_then(|target| {
            let request = CreateParticipant::from_form(&form(&body)?)
                .map_err(|e| Failure::invalid_param(&e))?;
            let created = shared.state().create_participant(
                &target,
                &request,
                &shared.config,
                Instant::now(),
            )?;
            Ok((created, request))
        });
    let (created, request) = match created {
        Ok(created) => created,
        Err(failure) => return failure.into_response(),
    };
    shared.stats.create(
        jiff::Timestamp::now().as_second(),
        request.to().as_str(),
        created.queue_time_ms,
    );
    if created.has_callback {
        callbacks::spawn(shared.clone(), created.call);
    }
    let response = (StatusCode::CREATED, Json(created.participant)).into_response();
    faults::deliver(&shared, fault, response).await
}

async fn list_participants(
    State(shared): State<Arc<Shared>>,
    Path((_, conference)): Path<(String, String)>,
    uri: Uri,
    RawQuery(query): RawQuery,
) -> Result<Json<ParticipantPage>, Failure> {
    let pairs = query_pairs(query)?;
    let page = PageRequest::from_query(&pairs)?;
    let flag = |name: &str| -> Result<Option<bool>, Failure> {
        let Some((_, raw)) = pairs.iter().rev().find(|(k, _)| k == name) else {
            return Ok(None);
        };
        bool::parse_param(raw).map(Some).map_err(|rule| {
            Failure::bad_request(CODE_INVALID_PARAMETER, format!("invalid {name}: {rule}"))
        })
    };
    let filter = ParticipantFilter {
        muted: flag("Muted")?,
        hold: flag("Hold")?,
        coaching: flag("Coaching")?,
    };
    let all = shared
        .state()
        .list_participants(&conference, filter, Instant::now())?;
    let (participants, meta) = page.cut(all, uri.path());
    Ok(Json(ParticipantPage { participants, meta }))
}

async fn fetch_participant(
    State(shared): State<Arc<Shared>>,
    Path((_, conference, participant)): Path<(String, String, String)>,
) -> Result<Json<Participant>, Failure> {
    let id = json_name(&participant)?;
    shared
        .state()
        .fetch_participant(&conference, id, Instant::now())
        .map(Json)
}

async fn update_participant(
    State(shared): State<Arc<Shared>>,
    Path((_, conference, participant)): Path<(String, String, String)>,
    body: Bytes,
) -> Result<Json<Participant>, Failure> {
    let id = json_name(&participant)?;
    let update =
        ParticipantUpdate::from_form(&form(&body)?).map_err(|e| Failure::invalid_param(&e))?;
    shared
        .state()
        .update_participant(&conference, id, &update, Instant::now())
        .map(Json)
}

async fn delete_participant(
    State(shared): State<Arc<Shared>>,
    Path((_, conference, participant)): Path<(String, String, String)>,
) -> Result<StatusCode, Failure> {
    let id = json_name(&participant)?;
    shared
        .state()
        .delete_participant(&conference, id, Instant::now())?;
    Ok(StatusCode::NO_CONTENT)
}

async fn fetch_conference(
    State(shared): State<Arc<Shared>>,
    Path((_, conference)): Path<(String, String)>,
) -> Result<Json<ConferenceJson>, Failure> {
    let sid = json_name(&conference)?;
    shared
        .state()
        .fetch_conference(sid, Instant::now())
        .map(Json)
}

async fn fetch_call(
    State(shared): State<Arc<Shared>>,
    Path((_, call)): Path<(String, String)>,
) -> Result<Json<Call>, Failure> {
    let sid = json_name(&call)?;
    shared.state().fetch_call(sid, Instant::now()).map(Json)
}

async fn list_calls(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    RawQuery(query): RawQuery,
) -> Result<Json<CallPage>, Failure> {
    let pairs = query_pairs(query)?;
    let page = PageRequest::from_query(&pairs)?;
    let filter = CallFilter::from_query(&pairs)?;
    let lag = shared.config.call_log_lag();
    let all = shared.state().list_calls(&filter, lag, Instant::now());
    let (calls, meta) = page.cut(all, uri.path());
    Ok(Json(CallPage { calls, meta }))
}

async fn stats(State(shared): State<Arc<Shared>>) -> Json<SandboxStats> {
    Json(shared.stats.snapshot())
}

/// `POST /sandbox/outage?seconds=N`: refuse connections for N seconds (see
/// [`Sandbox::refuse_connections_for`](super::Sandbox::refuse_connections_for)).
async fn outage(State(shared): State<Arc<Shared>>, RawQuery(query): RawQuery) -> Response {
    let seconds = query_pairs(query).and_then(|pairs| {
        pairs
            .iter()
            .find(|(key, _)| key == "seconds")
            .and_then(|(_, value)| value.parse::<u64>().ok())
            .ok_or_else(|| Failure::bad_request(CODE_INVALID_PARAMETER, "seconds=N is required"))
    });
    match seconds {
        Ok(seconds) => {
            shared.refuse_connections_for(std::time::Duration::from_secs(seconds));
            StatusCode::ACCEPTED.into_response()
        }
        Err(failure) => failure.into_response(),
    }
}
