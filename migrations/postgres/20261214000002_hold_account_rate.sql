-- Adaptive pacing per account, not per host: the account's rate when Twilio queues its calls.
--
-- Every host of an account reads the same `queue_time` from Twilio (the queue is the
-- account's), but a host that backed off on its own would set the spacing of every host's
-- slots from its own share of the traffic. So the rate adaptive pacing holds the account to is
-- kept here, beside its schedule: `held_interval_ns` is the spacing of the account's slots while
-- held below the CPS (0: not held, each caller's own CPS), and `held_at_ns` when it last
-- changed, on the database's clock. A host changes it only from the value it saw, and only
-- if nobody changed it while it gathered the signals it judged by (`AccountSchedule::hold`),
-- so several hosts judging the same queue move the account's rate once, as one host would.
ALTER TABLE account_schedules
    ADD COLUMN held_interval_ns bigint NOT NULL DEFAULT 0 CHECK (held_interval_ns >= 0),
    ADD COLUMN held_at_ns       bigint NOT NULL DEFAULT 0;

-- As before (see 20261202000000_create_account_schedules.sql), except that the slot is spaced
-- by the held interval when it is longer than the caller's own, and the held interval comes
-- back with the slot, so every host paces at the account's rate (and shows it).
DROP FUNCTION take_account_slot(text, bigint, bigint);
CREATE FUNCTION take_account_slot(
    p_account_sid text,
    p_interval_ns bigint,
    p_tau_ns bigint,
    OUT send_at_ns bigint,
    OUT db_now_ns bigint,
    OUT held_ns bigint
)
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    schedule account_schedules%ROWTYPE;
    spacing  bigint;
    tau      bigint;
    next_ns  bigint;
    slot_ns  bigint;
BEGIN
    SELECT * INTO schedule FROM account_schedules
     WHERE account_sid = p_account_sid FOR UPDATE;
    IF NOT FOUND THEN
        INSERT INTO account_schedules (account_sid, interval_ns, tau_ns, tat_ns)
        VALUES (p_account_sid, p_interval_ns, p_tau_ns, 0)
        ON CONFLICT (account_sid) DO NOTHING;
        SELECT * INTO STRICT schedule FROM account_schedules
         WHERE account_sid = p_account_sid FOR UPDATE;
    END IF;

    held_ns := schedule.held_interval_ns;
    spacing := greatest(p_interval_ns, held_ns);
    -- The burst tolerance stays one interval of the spacing used.
    tau := greatest(p_tau_ns, held_ns);
    db_now_ns := unix_clock_ns();
    next_ns := schedule.tat_ns - schedule.interval_ns + spacing;
    slot_ns := CASE WHEN next_ns >= db_now_ns - tau THEN next_ns ELSE db_now_ns END;

    UPDATE account_schedules
       SET interval_ns = spacing, tau_ns = tau, tat_ns = slot_ns + spacing
     WHERE account_sid = p_account_sid;
    send_at_ns := greatest(slot_ns, db_now_ns);
END
$$;
