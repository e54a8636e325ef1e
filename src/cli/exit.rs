//! Exit codes, part of the interface (the README lists them), decided here and only here:
//! what an error that ended a command means, and what the end of a run means.

use crate::campaign::lock::LockError;
use crate::campaign::{MoveError, RunError};
use crate::compliance::gate::GateError;
use crate::compliance::suppression::SuppressionError;
use crate::config::ConfigError;
use crate::dialing::Ending;
use crate::domain::SecretFileError;
use crate::import::ImportError;
use crate::stop::StopReason;
use crate::store::StateCounts;
use crate::twilio::credentials::CredentialsError;
use crate::twilio::{ApiError, Disposition, ParamError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    /// Everything asked for was done.
    Done = 0,
    /// An error stopped the command (Twilio refused a request, I/O, ...).
    Error = 1,
    /// Bad arguments, configuration or credentials: nothing was dialed.
    Config = 2,
    /// The run finished, but some rows failed or their outcome is unknown.
    DoneWithFailures = 3,
    /// Stopped early (deadline, signal, pause, calling window, Twilio unreachable) with rows
    /// left for the next run.
    StoppedEarly = 4,
    /// Another run holds this campaign's lock.
    Locked = 5,
}

impl Exit {
    /// The process's exit status.
    pub fn code(self) -> i32 {
        self as i32
    }

    /// How a run that went to its end ended, with the rows as it left them.
    pub fn of_run(ending: &Ending, counts: &StateCounts) -> Self {
        let left = counts.pending + counts.dialing;
        match ending {
            Ending::Stopped(StopReason::Abort(_)) => Self::Config,
            Ending::Stopped(StopReason::Storage(_)) => Self::Error,
            Ending::Stopped(StopReason::Canceled) => Self::Done,
            Ending::Stopped(_) if left + counts.unknown > 0 => Self::StoppedEarly,
            _ if counts.failed + counts.unknown + counts.rejected > 0 || left > 0 => {
                Self::DoneWithFailures
            }
            _ => Self::Done,
        }
    }
}

impl From<&RunError> for Exit {
    fn from(error: &RunError) -> Self {
        match error {
            RunError::Lock(LockError::Held(_)) => Self::Locked,
            RunError::Gate(GateError::Suppression(_)) => Self::Config,
            RunError::Import(e) if e.is_bad_input() => Self::Config,
            _ => Self::Error,
        }
    }
}

impl From<&MoveError> for Exit {
    fn from(error: &MoveError) -> Self {
        match error {
            MoveError::Lock(LockError::Held(_)) => Self::Locked,
            refused if refused.is_refusal() => Self::Config,
            _ => Self::Error,
        }
    }
}

/// What an error that ended a command means: nothing was dialed because of what the user
/// gave (configuration, credentials, a list unusable as a whole), or something went wrong.
impl From<&anyhow::Error> for Exit {
    fn from(error: &anyhow::Error) -> Self {
        for cause in error.chain() {
            if let Some(run) = cause.downcast_ref::<RunError>() {
                return Self::from(run);
            }
            if let Some(moving) = cause.downcast_ref::<MoveError>() {
                return Self::from(moving);
            }
            let refused = cause
                .downcast_ref::<ApiError>()
                .is_some_and(|e| e.disposition() == Disposition::Abort);
            let bad_input = cause
                .downcast_ref::<ImportError>()
                .is_some_and(ImportError::is_bad_input);
            if refused
                || bad_input
                || cause.is::<CredentialsError>()
                || cause.is::<SecretFileError>()
                || cause.is::<ParamError>()
                || cause.is::<ConfigError>()
                || cause.is::<SuppressionError>()
                || cause.is::<crate::domain::Invalid>()
            {
                return Self::Config;
            }
        }
        Self::Error
    }
}
