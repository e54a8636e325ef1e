//! Everything the emulated account holds: conferences, participants, the call log, the CPS
//! queue and the random source. One value behind one mutex, never held across an await;
//! phases are computed from timestamps on read, so nothing here runs on its own.

use super::clock::Clock;
use super::config::SandboxConfig;
use super::failure::Failure;
use super::record::{CallRecord, Draws};
use crate::domain::{AccountSid, CallSid, ConferenceSid, ConferenceTarget, Cps, Invalid, Label};
use crate::twilio::Participant;
use crate::twilio::params::CreateParticipant;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::HashMap;
use std::time::Instant;

/// Twilio's default and highest MaxParticipants.
const DEFAULT_MAX_PARTICIPANTS: usize = 250;

pub(crate) struct State {
    pub(super) clock: Clock,
    pub(super) account: AccountSid,
    pub(super) conferences: HashMap<ConferenceSid, Conference>,
    by_name: HashMap<String, ConferenceSid>,
    pub(super) calls: Vec<CallRecord>,
    pub(super) call_index: HashMap<CallSid, usize>,
    pub(super) calls_by_to: HashMap<String, Vec<usize>>,
    /// The next free CPS slot of the account.
    next_free: Option<Instant>,
    /// The calls per second the account places now: the configured CPS unless a test slowed
    /// the account down (`Sandbox::set_cps`).
    pub(super) cps: Cps,
    rng: StdRng,
}

pub(crate) struct Conference {
    pub friendly_name: String,
    pub created: Instant,
    pub max_participants: usize,
    /// Calls still in the conference, in joining order; pruned as they leave.
    pub members: Vec<usize>,
    /// Set once the last participant has left; an ended conference never reopens.
    pub ended: Option<Instant>,
}

/// A participant just created, with what the caller of `create_participant` reports on.
pub(crate) struct Created {
    pub participant: Participant,
    pub call: CallSid,
    pub queue_time_ms: u64,
    pub has_callback: bool,
}

impl State {
    pub fn new(config: &SandboxConfig, clock: Clock) -> Self {
        let rng = config
            .seed
            .map_or_else(StdRng::from_os_rng, StdRng::seed_from_u64);
        Self {
            clock,
            account: config.account_sid.clone(),
            conferences: HashMap::new(),
            by_name: HashMap::new(),
            calls: Vec::new(),
            call_index: HashMap::new(),
            calls_by_to: HashMap::new(),
            next_free: None,
            cps: config.cps,
            rng,
        }
    }

    /// A uniform draw in 0..1 from the (seedable) random source.
    pub fn draw(&mut self) -> f64 {
        self.rng.random()
    }

    pub(super) fn mint<T>(&mut self, prefix: &str, parse: fn(&str) -> Result<T, Invalid>) -> T {
        let digits: u128 = self.rng.random();
        parse(&format!("{prefix}{digits:032x}")).expect("prefix + 32 hex digits is a SID")
    }

    /// The conference if it exists and has not ended (ended is brought up to date first).
    pub(super) fn live_conference(
        &mut self,
        sid: &ConferenceSid,
        now: Instant,
    ) -> Option<&Conference> {
        self.refresh_conference(sid, now);
        self.conferences
            .get(sid)
            .filter(|conference| conference.ended.is_none())
    }

    /// Prunes members that have left; marks the conference ended when none is left.
    pub(super) fn refresh_conference(&mut self, sid: &ConferenceSid, now: Instant) {
        let Self {
            conferences, calls, ..
        } = self;
        let Some(conference) = conferences.get_mut(sid) else {
            return;
        };
        if conference.ended.is_none() {
            let mut last_end = None;
            conference.members.retain(|&i| {
                let active = calls[i].timeline.is_active(now);
                if !active {
                    last_end = last_end.max(Some(calls[i].timeline.end()));
                }
                active
            });
            if conference.members.is_empty() {
                conference.ended = Some(last_end.unwrap_or(now));
            }
        }
    }

    pub fn create_participant(
        &mut self,
        target: &ConferenceTarget,
        request: &CreateParticipant,
        config: &SandboxConfig,
        now: Instant,
    ) -> Result<Created, Failure> {
        let to = request.to().as_str();
        if config
            .invalid_to_prefix
            .as_deref()
            .is_some_and(|prefix| to.starts_with(prefix))
        {
            return Err(Failure::invalid_to());
        }
        if config
            .server_error_to_prefix
            .as_deref()
            .is_some_and(|prefix| to.starts_with(prefix))
        {
            return Err(Failure::internal());
        }
        let existing = match target {
            ConferenceTarget::Sid(sid) => Some(sid.clone()),
            ConferenceTarget::FriendlyName(name) => self.by_name.get(name).cloned(),
        };
        let existing = existing.filter(|sid| self.live_conference(sid, now).is_some());
        match (&existing, target) {
            (None, ConferenceTarget::Sid(_)) => return Err(Failure::not_found()),
            (Some(sid), _) => self.check_room(sid, request.label())?,
            (None, ConferenceTarget::FriendlyName(_)) => {}
        }
        let slot = self.take_slot(config, now)?;
        let conference = match existing {
            Some(sid) => sid,
            None => self.open_conference(target.as_str(), request, now),
        };
        let draws = Draws {
            outcome: self.draw(),
            machine: self.draw(),
        };
        let sid = self.mint("CA", CallSid::parse);
        let record = CallRecord::new(sid, draws, conference, request, config, now, slot);
        let created = Created {
            participant: self.participant_json(&record, now),
            call: record.sid.clone(),
            queue_time_ms: record.queue_time_ms,
            has_callback: record.callback.is_some(),
        };
        let index = self.calls.len();
        self.call_index.insert(record.sid.clone(), index);
        self.calls_by_to
            .entry(record.to.clone())
            .or_default()
            .push(index);
        if let Some(conference) = self.conferences.get_mut(&record.conference) {
            conference.members.push(index);
        }
        self.calls.push(record);
        Ok(created)
    }

    /// Refuses a participant a live conference has no room for.
    fn check_room(&self, sid: &ConferenceSid, label: Option<&Label>) -> Result<(), Failure> {
        let conference = self.conferences.get(sid).ok_or_else(Failure::not_found)?;
        if conference.members.len() >= conference.max_participants {
            return Err(Failure::conference_full(conference.max_participants));
        }
        if let Some(label) = label
            && conference
                .members
                .iter()
                .any(|&i| self.calls[i].label.as_ref() == Some(label))
        {
            return Err(Failure::label_in_use(label.as_str()));
        }
        Ok(())
    }

    /// Takes the account's next CPS slot: `max(now, next_free)`, then moves `next_free` on.
    fn take_slot(&mut self, config: &SandboxConfig, now: Instant) -> Result<Instant, Failure> {
        if config.unpaced {
            return Ok(now);
        }
        let slot = self.next_free.map_or(now, |free| free.max(now));
        if slot - now > config.queue_limit() {
            return Err(Failure::queue_full());
        }
        self.next_free = Some(slot + self.cps.interval());
        Ok(slot)
    }

    fn open_conference(
        &mut self,
        name: &str,
        request: &CreateParticipant,
        now: Instant,
    ) -> ConferenceSid {
        let sid = self.mint("CF", ConferenceSid::parse);
        let max_participants = request
            .options()
            .max_participants
            .map_or(DEFAULT_MAX_PARTICIPANTS, |m| {
                usize::try_from(m.get()).unwrap_or(DEFAULT_MAX_PARTICIPANTS)
            });
        let conference = Conference {
            friendly_name: name.to_owned(),
            created: now,
            max_participants,
            members: Vec::new(),
            ended: None,
        };
        self.conferences.insert(sid.clone(), conference);
        self.by_name.insert(name.to_owned(), sid.clone());
        sid
    }
}
