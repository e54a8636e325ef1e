//! The Participants subresource on the state: find a participant by CallSid or label, read,
//! update, remove and list the active ones, and render Twilio's participant JSON.

use super::failure::Failure;
use super::record::CallRecord;
use super::state::State;
use crate::domain::{ConferenceSid, ParticipantId};
use crate::twilio::{Participant, ParticipantUpdate};
use std::time::Instant;

/// List Participants filters; `None` matches anything.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ParticipantFilter {
    pub muted: Option<bool>,
    pub hold: Option<bool>,
    pub coaching: Option<bool>,
}

impl ParticipantFilter {
    fn admits(&self, call: &CallRecord) -> bool {
        [
            (self.muted, call.muted),
            (self.hold, call.hold),
            (self.coaching, call.coaching),
        ]
        .iter()
        .all(|(want, have)| want.is_none_or(|w| w == *have))
    }
}

impl State {
    pub fn fetch_participant(
        &mut self,
        conference: &str,
        id: &str,
        now: Instant,
    ) -> Result<Participant, Failure> {
        let index = self.find_participant(conference, id, now)?;
        Ok(self.participant_json(&self.calls[index], now))
    }

    pub fn update_participant(
        &mut self,
        conference: &str,
        id: &str,
        update: &ParticipantUpdate,
        now: Instant,
    ) -> Result<Participant, Failure> {
        let index = self.find_participant(conference, id, now)?;
        let call = &mut self.calls[index];
        let set = |field: &mut bool, value: Option<bool>| *field = value.unwrap_or(*field);
        set(&mut call.muted, update.muted);
        set(&mut call.hold, update.hold);
        set(&mut call.coaching, update.coaching);
        set(
            &mut call.end_conference_on_exit,
            update.end_conference_on_exit,
        );
        if let Some(sid) = &update.call_sid_to_coach {
            call.call_sid_to_coach = Some(sid.clone());
        }
        call.updated = now;
        Ok(self.participant_json(&self.calls[index], now))
    }

    /// Hangs the participant's call up now; its status callback task is woken to report it.
    pub fn delete_participant(
        &mut self,
        conference: &str,
        id: &str,
        now: Instant,
    ) -> Result<(), Failure> {
        let index = self.find_participant(conference, id, now)?;
        let call = &mut self.calls[index];
        call.timeline.hang_up(now);
        call.updated = now;
        if let Some(plan) = &call.callback {
            plan.wake.notify_one();
        }
        Ok(())
    }

    /// Active participants matching `filter`, in joining order.
    pub fn list_participants(
        &mut self,
        conference: &str,
        filter: ParticipantFilter,
        now: Instant,
    ) -> Result<Vec<Participant>, Failure> {
        let sid = ConferenceSid::parse(conference).map_err(|_| Failure::not_found())?;
        let members = self
            .live_conference(&sid, now)
            .ok_or_else(Failure::not_found)?
            .members
            .clone();
        Ok(members
            .into_iter()
            .map(|i| &self.calls[i])
            .filter(|call| filter.admits(call))
            .map(|call| self.participant_json(call, now))
            .collect())
    }

    /// The call index of an active participant of a live conference named by its CF… SID.
    fn find_participant(
        &mut self,
        conference: &str,
        id: &str,
        now: Instant,
    ) -> Result<usize, Failure> {
        let sid = ConferenceSid::parse(conference).map_err(|_| Failure::not_found())?;
        let id = ParticipantId::parse(id).map_err(|_| Failure::not_found())?;
        self.refresh_conference(&sid, now);
        let conference = self
            .conferences
            .get(&sid)
            .filter(|c| c.ended.is_none())
            .ok_or_else(Failure::not_found)?;
        conference
            .members
            .iter()
            .copied()
            .find(|&i| match &id {
                ParticipantId::CallSid(call) => self.calls[i].sid == *call,
                ParticipantId::Label(label) => self.calls[i].label.as_ref() == Some(label),
            })
            .ok_or_else(Failure::not_found)
    }

    pub(super) fn participant_json(&self, call: &CallRecord, now: Instant) -> Participant {
        let date = |at| Some(self.clock.rfc2822(at));
        Participant {
            account_sid: Some(self.account.to_string()),
            call_sid: Some(call.sid.clone()),
            label: call.label.as_ref().map(ToString::to_string),
            call_sid_to_coach: call.call_sid_to_coach.as_ref().map(ToString::to_string),
            coaching: Some(call.coaching),
            conference_sid: Some(call.conference.clone()),
            date_created: date(call.timeline.created),
            date_updated: date(call.updated),
            end_conference_on_exit: Some(call.end_conference_on_exit),
            muted: Some(call.muted),
            hold: Some(call.hold),
            start_conference_on_enter: Some(call.start_conference_on_enter),
            status: Some(
                call.timeline
                    .participant_status(now)
                    .unwrap_or("complete")
                    .to_owned(),
            ),
            queue_time: Some(call.queue_time_ms.to_string()),
            uri: Some(format!(
                "/2010-04-01/Accounts/{}/Conferences/{}/Participants/{}.json",
                self.account, call.conference, call.sid
            )),
        }
    }
}
