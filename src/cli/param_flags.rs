//! One command-line flag per Twilio parameter, generated from the parameter table so a new
//! parameter needs no CLI change: `--status-callback-event initiated --status-callback-event
//! answered`, `--timeout 20`, ... Credentials among them (SipAuthPassword, CallToken) come from
//! the environment instead (`DIALER_SIP_AUTH_PASSWORD`), so they never show in a process list.

use crate::twilio::FormParams;
use clap::{Arg, ArgAction, ArgMatches, Args, Command, FromArgMatches};

#[derive(Debug, Clone, Default)]
pub struct ParamFlags<P>(pub P);

impl<P: FormParams> Args for ParamFlags<P> {
    fn augment_args(cmd: Command) -> Command {
        let secrets: Vec<String> = P::names()
            .iter()
            .filter_map(|name| Some(format!("  {:<28} Twilio's {}", name.env_var()?, name.wire)))
            .collect();
        let cmd = if secrets.is_empty() {
            cmd
        } else {
            cmd.after_help(format!(
                "Credentials are read from the environment, never from the command line:\n{}",
                secrets.join("\n")
            ))
        };
        let flags = P::names().iter().filter(|name| !name.secret);
        flags.fold(cmd, |cmd, name| {
            let action = if name.repeated {
                ArgAction::Append
            } else {
                ArgAction::Set
            };
            let help = if name.repeated {
                format!(
                    "Twilio's {} (repeat the flag for several values)",
                    name.wire
                )
            } else {
                format!("Twilio's {}", name.wire)
            };
            cmd.arg(
                Arg::new(name.snake)
                    .long(name.kebab())
                    .value_name("VALUE")
                    .action(action)
                    .help(help)
                    .help_heading("Twilio parameters"),
            )
        })
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        Self::augment_args(cmd)
    }
}

impl<P: FormParams> FromArgMatches for ParamFlags<P> {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let mut params = P::default();
        for name in P::names() {
            let (source, value) = if let Some(var) = name.env_var() {
                match std::env::var(&var) {
                    Ok(value) if !value.is_empty() => (var, value),
                    _ => continue,
                }
            } else {
                let Some(values) = matches.get_many::<String>(name.snake) else {
                    continue;
                };
                let joined = values.map(String::as_str).collect::<Vec<_>>().join(" ");
                (format!("--{}", name.kebab()), joined)
            };
            params.set_param(name.wire, &value).map_err(|e| {
                clap::Error::raw(
                    clap::error::ErrorKind::ValueValidation,
                    format!("{source}: {e}\n"),
                )
            })?;
        }
        Ok(Self(params))
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}
