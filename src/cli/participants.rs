//! `dialer participants …`: the Participants resource by hand.

use super::TwilioArgs;
use super::param_flags::ParamFlags;
use crate::domain::{Caller, ConferenceSid, ConferenceTarget, Endpoint, ParticipantId};
use crate::twilio::{
    CreateParticipant, ListFilter, Participant, ParticipantOptions, ParticipantUpdate,
};
use anyhow::Context;
use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum ParticipantsCommand {
    /// Add a participant to a conference (a friendly name creates it on first use).
    Create(Box<CreateArgs>),
    /// Show one participant, by CallSid or label.
    Get(IdArgs),
    /// List a conference's active participants (every page).
    List(ListArgs),
    /// Change a participant: mute, hold, announce, coach, ...
    Update(Box<UpdateArgs>),
    /// Remove a participant from the conference (hangs up its call).
    Remove(IdArgs),
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Conference SID (CF…) or friendly name.
    #[arg(long, value_parser = ConferenceTarget::parse)]
    conference: ConferenceTarget,
    /// Caller: an E.164 number, client:name, or a SIP user name (when --to is sip:).
    #[arg(long, value_parser = Caller::parse)]
    from: Caller,
    /// Callee: an E.164 number, client:name[?k=v], sip:user@host or app:AP….
    #[arg(long, value_parser = Endpoint::parse)]
    to: Endpoint,
    #[command(flatten)]
    params: ParamFlags<ParticipantOptions>,
    /// Print Twilio's JSON instead of a line.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct IdArgs {
    /// Conference SID (CF…); Twilio does not take a friendly name here.
    #[arg(long, value_parser = conference_sid)]
    conference: ConferenceSid,
    /// The participant's CallSid (CA…) or label.
    #[arg(value_parser = ParticipantId::parse)]
    id: ParticipantId,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[arg(long, value_parser = conference_sid)]
    conference: ConferenceSid,
    /// Only muted (or, with =false, unmuted) participants.
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    muted: Option<bool>,
    /// Only participants on hold (or not, with =false).
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    hold: Option<bool>,
    /// Only coaching participants (or not, with =false).
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    coaching: Option<bool>,
    /// Participants per page, 1 to 1000.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1000))]
    page_size: Option<u16>,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct UpdateArgs {
    #[arg(long, value_parser = conference_sid)]
    conference: ConferenceSid,
    #[arg(value_parser = ParticipantId::parse)]
    id: ParticipantId,
    #[command(flatten)]
    params: ParamFlags<ParticipantUpdate>,
    #[arg(long)]
    json: bool,
}

pub async fn run(command: ParticipantsCommand, twilio: &TwilioArgs) -> anyhow::Result<()> {
    let client = twilio.client()?;
    match command {
        ParticipantsCommand::Create(args) => {
            let CreateArgs {
                conference,
                from,
                to,
                params,
                json,
            } = *args;
            let request = CreateParticipant::new(from, to, params.0)?;
            let created = client.create_participant(&conference, &request).await?;
            print_participant(&created, json)
        }
        ParticipantsCommand::Get(args) => {
            let found = client.fetch_participant(&args.conference, &args.id).await?;
            print_participant(&found, args.json)
        }
        ParticipantsCommand::List(args) => {
            let filter = ListFilter {
                muted: args.muted,
                hold: args.hold,
                coaching: args.coaching,
                page_size: args.page_size,
            };
            let all = client.list_participants(&args.conference, &filter).await?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&all)?);
            } else {
                all.iter().for_each(|p| println!("{}", participant_line(p)));
                println!("{} participant(s)", all.len());
            }
            Ok(())
        }
        ParticipantsCommand::Update(args) => {
            let updated = client
                .update_participant(&args.conference, &args.id, &args.params.0)
                .await?;
            print_participant(&updated, args.json)
        }
        ParticipantsCommand::Remove(args) => {
            client
                .delete_participant(&args.conference, &args.id)
                .await?;
            if args.json {
                println!(
                    "{{\"removed\":{}}}",
                    serde_json::to_string(args.id.as_str())?
                );
            } else {
                println!("removed {} from {}", args.id, args.conference);
            }
            Ok(())
        }
    }
}

fn print_participant(p: &Participant, json: bool) -> anyhow::Result<()> {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(p).context("Failed to print JSON")?
        );
    } else {
        println!("{}", participant_line(p));
    }
    Ok(())
}

fn participant_line(p: &Participant) -> String {
    fn field(v: &Option<impl ToString>) -> String {
        v.as_ref().map_or_else(|| "-".into(), ToString::to_string)
    }
    let flag = |v: Option<bool>| v.map(|b| b.to_string()).unwrap_or_else(|| "-".into());
    format!(
        "{} conference={} label={} status={} queue_time={}ms muted={} hold={} coaching={}",
        field(&p.call_sid),
        field(&p.conference_sid),
        field(&p.label),
        field(&p.status),
        field(&p.queue_time),
        flag(p.muted),
        flag(p.hold),
        flag(p.coaching),
    )
}

/// A conference's SID for the commands that address an existing participant. Twilio's
/// Participant resource takes a friendly name only when creating (it creates the conference
/// on first use), so a name here gets the way to its SID rather than a bare format error.
fn conference_sid(raw: &str) -> Result<ConferenceSid, String> {
    ConferenceSid::parse(raw).map_err(|e| {
        if raw.starts_with("CF") {
            e.to_string()
        } else {
            format!(
                "{raw:?} is a friendly name: list, get, update and remove need the conference's \
                 SID (CF followed by 32 hex digits), which `participants create` prints \
                 (conference=CF…) and Twilio's console shows"
            )
        }
    })
}
