-- GET /v1?caseId=case-<random existing case>
local cases = tonumber(os.getenv("CASES"))
local auth = os.getenv("AUTH")
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("seed", threads)
end
init = function(args)
  math.randomseed(os.time() * 1000 + seed)
end
request = function()
  return wrk.format("GET", "/api/case-repository/v1?caseId=case-" .. math.random(1, cases), { ["Authorization"] = auth })
end
