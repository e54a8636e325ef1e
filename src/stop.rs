//! Why a run should stop taking rows: a signal, the deadline, credentials Twilio refused, an
//! outage of Twilio, a pause or cancel of the campaign, or calling windows that have all closed.

use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopReason {
    Signal,
    Deadline,
    /// Twilio refused the credentials (401/403): nothing more can be sent.
    Abort(String),
    /// Twilio could not be reached for longer than `retry.outage_limit` (or rows in doubt
    /// could not be checked): the rows wait for the next run, none spent on the outage.
    TwilioUnreachable(String),
    /// The database could not record an outcome: dialing on would break exactly-once.
    Storage(String),
    /// `dialer campaign pause`: calls in flight finish, no new row is taken.
    Paused,
    /// `dialer campaign cancel`: the pending rows are canceled, never to be dialed.
    Canceled,
    /// Every row left waits for a calling window to open (or for the frequency cap); a row
    /// already claimed and admitted is still sent at its pacing slot (`dialing::held`).
    WindowClosed,
}

#[derive(Debug, Clone, Default)]
pub struct Stop {
    inner: Arc<(Mutex<Option<StopReason>>, Notify)>,
}

impl Stop {
    /// The first reason wins.
    pub fn trigger(&self, reason: StopReason) {
        let mut current = self.inner.0.lock().unwrap_or_else(|e| e.into_inner());
        if current.is_none() {
            *current = Some(reason);
        }
        self.inner.1.notify_waiters();
    }

    pub fn reason(&self) -> Option<StopReason> {
        self.inner
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn is_set(&self) -> bool {
        self.reason().is_some()
    }

    /// Resolves once stop is triggered.
    pub async fn wait(&self) {
        loop {
            let notified = self.inner.1.notified();
            if self.is_set() {
                return;
            }
            notified.await;
        }
    }

    /// A stop of its own that this one also triggers, with its reason: one run of a
    /// long-running worker can stop (a pause, refused credentials) without stopping the others.
    pub fn child(&self) -> Stop {
        let child = Stop::default();
        let (parent, forward) = (self.clone(), child.clone());
        tokio::spawn(async move {
            tokio::select! {
                _ = parent.wait() => {
                    if let Some(reason) = parent.reason() {
                        forward.trigger(reason);
                    }
                }
                _ = forward.wait() => {}
            }
        });
        child
    }

    /// Triggers on SIGINT or SIGTERM, and at the deadline.
    pub fn watch_signals_and_deadline(&self, deadline: Option<tokio::time::Instant>) {
        let stop = self.clone();
        tokio::spawn(async move {
            let deadline = async {
                match deadline {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = crate::shutdown::requested() => stop.trigger(StopReason::Signal),
                _ = deadline => stop.trigger(StopReason::Deadline),
            }
        });
    }
}
