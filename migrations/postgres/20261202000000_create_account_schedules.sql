-- The call schedule of each Twilio account, shared by every host that dials on it.
--
-- Twilio's CPS limit belongs to the account, so hosts sharing this database must share one
-- schedule: a generic cell rate algorithm (GCRA) kept in one row per account. `tat_ns` is the
-- theoretical arrival time, the next free slot: unix nanoseconds on the DATABASE's clock, so
-- the hosts' clocks never matter. A caller takes a slot and sleeps until it; a slot taken by
-- a host that then dies is lost (under-use, never over-use).
--
-- `interval_ns` is the spacing the last taker asked for, and `tat_ns` was advanced by it.
-- `tau_ns`, the burst tolerance, is one interval: a taker up to one interval late still gets
-- the schedule's slot (in the past, so it sends at once) and the next slot stays where it was.
-- Lateness is not charged, so the long-run rate is exactly the CPS, at the cost of at most
-- CPS + 1 calls in a sliding second. A schedule more than tau behind restarts at now, so an
-- idle account gets no burst.
CREATE TABLE account_schedules (
    account_sid text   PRIMARY KEY,
    interval_ns bigint NOT NULL CHECK (interval_ns > 0),
    tau_ns      bigint NOT NULL CHECK (tau_ns >= 0),
    tat_ns      bigint NOT NULL
);

-- The database's own clock in unix nanoseconds. `clock_timestamp()`, not `now()`: `now()` is
-- the transaction's start, which can lie before a wait for the row lock.
CREATE FUNCTION unix_clock_ns() RETURNS bigint
LANGUAGE sql VOLATILE
AS $$ SELECT (extract(epoch FROM clock_timestamp()) * 1000000000)::bigint $$;

-- Takes the account's next slot for a caller pacing at `interval_ns`: when to send, and the
-- database's time when the slot was given, so the caller waits `send_at_ns - db_now_ns`.
--
-- The row is locked before the clock is read: a caller that waited for the lock reads the
-- time after the wait, not before it, so concurrent callers never see time run backwards.
--
-- The interval may change between calls (adaptive pacing slows down when Twilio queues): the
-- next slot is the previous slot plus the interval asked for NOW, so a change takes effect at
-- once, and a slot already given out never moves.
CREATE FUNCTION take_account_slot(
    p_account_sid text,
    p_interval_ns bigint,
    p_tau_ns bigint,
    OUT send_at_ns bigint,
    OUT db_now_ns bigint
)
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    schedule account_schedules%ROWTYPE;
    next_ns  bigint;
    slot_ns  bigint;
BEGIN
    SELECT * INTO schedule FROM account_schedules
     WHERE account_sid = p_account_sid FOR UPDATE;
    IF NOT FOUND THEN
        -- First use of the account. A concurrent first caller may insert it too: DO NOTHING
        -- waits for that one's commit, and the SELECT below then locks the row it made.
        -- `tat_ns` 0 is a schedule long past: the first slot is now.
        INSERT INTO account_schedules (account_sid, interval_ns, tau_ns, tat_ns)
        VALUES (p_account_sid, p_interval_ns, p_tau_ns, 0)
        ON CONFLICT (account_sid) DO NOTHING;
        SELECT * INTO STRICT schedule FROM account_schedules
         WHERE account_sid = p_account_sid FOR UPDATE;
    END IF;

    db_now_ns := unix_clock_ns();
    next_ns := schedule.tat_ns - schedule.interval_ns + p_interval_ns;
    slot_ns := CASE WHEN next_ns >= db_now_ns - p_tau_ns THEN next_ns ELSE db_now_ns END;

    UPDATE account_schedules
       SET interval_ns = p_interval_ns, tau_ns = p_tau_ns, tat_ns = slot_ns + p_interval_ns
     WHERE account_sid = p_account_sid;
    send_at_ns := greatest(slot_ns, db_now_ns);
END
$$;

-- Gives back a slot of `p_interval_ns` that placed no call (the run stopped, the row was
-- held back): the next free slot moves one interval earlier, so the account's rate is not
-- lost, but never before now (a slot in the past would be a burst) and never later than it was.
CREATE FUNCTION give_back_account_slot(p_account_sid text, p_interval_ns bigint)
RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    tat    bigint;
    now_ns bigint;
BEGIN
    SELECT tat_ns INTO tat FROM account_schedules
     WHERE account_sid = p_account_sid FOR UPDATE;
    IF NOT FOUND THEN
        RETURN; -- nothing was ever taken on this account
    END IF;
    now_ns := unix_clock_ns();
    UPDATE account_schedules
       SET tat_ns = least(tat, greatest(tat - p_interval_ns, now_ns))
     WHERE account_sid = p_account_sid;
END
$$;
