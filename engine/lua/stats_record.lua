-- stats_record: records finished / failed jobs in the history exactly as finish.lua does (same
-- stats_lib code), without a worker: for seeding, benchmarks and tests (engine::stats::record).
-- KEYS: none (keys come from K).
-- ARGV[1]: now (integer unix seconds)   ARGV[2]: function cap per queue for the totals
-- ARGV[3 ..]: 5 fields per job: queue, function, '1' if it finished ('' = failed),
--   run time in µs, histogram bucket
-- Returns: the number of jobs recorded.
local jobs = {}
for i = 3, #ARGV, 5 do
  jobs[#jobs + 1] = {ARGV[i], ARGV[i + 1], ARGV[i + 2] == '1', tonumber(ARGV[i + 3]) or 0,
    tonumber(ARGV[i + 4]) or 0}
end
if #jobs > 0 then stats_jobs(tonumber(ARGV[1]), jobs, tonumber(ARGV[2])) end
return #jobs
