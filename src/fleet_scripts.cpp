#include "fleet_scripts.hpp"

#include <algorithm>
#include <fmt/format.h>

namespace retryx {

namespace {

// The server's time in milliseconds (TIME: seconds and microseconds).
// Numbers are written with %d: Lua's own conversion keeps 14 digits.
constexpr std::string_view server_now = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function int(n) return string.format('%d', n) end
)lua";

// The circuit hash, read as circuit.cpp's parse_circuit reads the file:
// exactly its four fields, a known phase, whole numbers, times from 0 to
// the end of the year 9999; anything else is not ours (corrupt).
constexpr std::string_view circuit_state = R"lua(
local phases = {closed = 0, open = 1, half_open = 2}
local phase_names = {[0] = 'closed', [1] = 'open', [2] = 'half_open'}
local latest_ms, most_failures, week_ms = 253402300799999, 9007199254740991, 604800000
local function whole(text, most)
  if type(text) ~= 'string' or #text > 16 or not string.match(text, '^%d+$') then return nil end
  local n = tonumber(text)
  if n > most then return nil end
  return n
end
-- phase, failures, last_failure_ms, trial_started_ms, corrupt; a missing
-- key is a closed circuit.
local function read_state(key)
  local flat = redis.call('HGETALL', key)
  if #flat == 0 then return 0, 0, 0, 0, false end
  local f = {}
  for i = 1, #flat, 2 do f[flat[i]] = flat[i + 1] end
  local phase = phases[f.phase]
  local failures = whole(f.failures, most_failures)
  local last = whole(f.last_failure_ms, latest_ms)
  local trial = whole(f.trial_started_ms, latest_ms)
  if #flat ~= 8 or phase == nil or failures == nil or last == nil or trial == nil then return 0, 0, 0, 0, true end
  return phase, failures, last, trial, false
end
local function write_state(key, phase, failures, last, trial, cooldown)
  redis.call('DEL', key)
  redis.call('HSET', key, 'phase', phase_names[phase], 'failures', int(failures),
             'last_failure_ms', int(last), 'trial_started_ms', int(trial))
  redis.call('PEXPIRE', key, int(math.max(cooldown, week_ms)))
end
)lua";

// circuit.cpp's admit(): closed goes ahead; open (half-open) refuses the
// runs within the cooldown of the last failure (of the trial's start), a
// time ahead of now counted as now, and then makes the run the trial.
constexpr std::string_view circuit_admit = R"lua(
local key, cooldown = KEYS[1], tonumber(ARGV[1])
local phase, failures, last, trial, corrupt = read_state(key)
local reply = {phase, failures, last, trial, now, corrupt and 1 or 0}
local allowed, is_trial, changed = 1, 0, corrupt
if phase ~= 0 then
  local since = trial
  if phase == 1 then since = last end
  if since > now then since = now; changed = true end
  if phase == 1 then last = since else trial = since end
  if now - since < cooldown then
    allowed = 0
  else
    phase, trial, is_trial, changed = 2, now, 1, true
  end
end
if changed then write_state(key, phase, failures, last, trial, cooldown) end
reply[7], reply[8] = allowed, is_trial
return reply
)lua";

// circuit.cpp's record_run(): a success closes; an interrupted trial
// reopens (the next run tries); a failure counts, and opens the circuit at
// the threshold or when it was the trial.
constexpr std::string_view circuit_record = R"lua(
local key, outcome, was_trial = KEYS[1], ARGV[1], ARGV[2] == '1'
local threshold, cooldown = tonumber(ARGV[3]), tonumber(ARGV[4])
local phase, failures, last, trial, corrupt = read_state(key)
local reply = {phase, failures, last, trial, now, corrupt and 1 or 0}
if outcome == 'success' then
  phase, failures, last, trial = 0, 0, 0, 0
elseif outcome == 'interrupted' then
  if was_trial then phase, trial = 1, 0 end
elseif outcome == 'failure' then
  if failures < most_failures then failures = failures + 1 end
  last = now
  if was_trial or failures >= threshold then phase, trial = 1, 0 end
else
  return redis.error_reply('ERR retryx: unknown outcome')
end
write_state(key, phase, failures, last, trial, cooldown)
reply[7], reply[8], reply[9], reply[10] = phase, failures, last, trial
return reply
)lua";

// retry_budget.cpp's forget_outside (entries at or before now - window,
// or after now + window, are dropped) and retries_allowed: min +
// floor(ratio_ppm x runs / 10^6), exactly (the product is exact below
// 2^53; the quotient's floor is corrected by the products around it).
constexpr std::string_view budget_common = R"lua(
local runs_key, retries_key = KEYS[1], KEYS[2]
local window, ratio, min, member = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
for _, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', int(now - window))
  redis.call('ZREMRANGEBYSCORE', key, '(' .. int(now + window), '+inf')
end
local function allowed_for(runs)
  local product = ratio * runs
  local scaled = math.floor(product / 1000000)
  if scaled * 1000000 > product then
    scaled = scaled - 1
  elseif (scaled + 1) * 1000000 <= product then
    scaled = scaled + 1
  end
  return math.min(min + scaled, 9007199254740991)
end
local function refresh()
  local ms = int(math.max(window, 604800000))
  redis.call('PEXPIRE', runs_key, ms)
  redis.call('PEXPIRE', retries_key, ms)
end
)lua";

constexpr std::string_view budget_run = R"lua(
redis.call('ZADD', runs_key, int(now), member)
refresh()
local runs = redis.call('ZCARD', runs_key)
return {1, redis.call('ZCARD', retries_key), runs, allowed_for(runs)}
)lua";

constexpr std::string_view budget_retry = R"lua(
local runs, retries = redis.call('ZCARD', runs_key), redis.call('ZCARD', retries_key)
local allowed = allowed_for(runs)
local granted = 0
if retries < allowed then
  granted = 1
  redis.call('ZADD', retries_key, int(now), member)
end
refresh()
return {granted, retries, runs, allowed}
)lua";

std::string joined(std::initializer_list<std::string_view> parts) {
  std::string text;
  for (const std::string_view part : parts) text += part;
  return text;
}

}  // namespace

const std::string circuit_admit_script = joined({"-- retryx circuit admit 1", server_now, circuit_state, circuit_admit});
const std::string circuit_record_script =
    joined({"-- retryx circuit record 1", server_now, circuit_state, circuit_record});
const std::string budget_run_script = joined({"-- retryx budget run 1", server_now, budget_common, budget_run});
const std::string budget_retry_script = joined({"-- retryx budget retry 1", server_now, budget_common, budget_retry});

std::string fleet_key(std::string_view name, std::string_view what) { return fmt::format("retryx:{{{}}}:{}", name, what); }

std::string script_number(std::uint64_t n) { return fmt::format("{}", std::min(n, script_number_cap)); }

std::string store_unusable(SharedStore& store, const StoreAnswer& answer, std::string_view not_ours,
                           std::string_view dropped) {
  if (answer.reply) store.give_up();
  const std::string_view problem = answer.reply ? not_ours : std::string_view(answer.problem);
  if (problem.empty()) return "";
  return fmt::format("{}: {}; going on without {}", store.location(), problem, dropped);
}

}  // namespace retryx
