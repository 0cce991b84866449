-- POST /v1: a new case each time (its caseId unique per thread and request)
local auth = os.getenv("AUTH")
local counter = 0
local prefix = nil
setup = function(thread)
  thread:set("id", tostring(thread):sub(-8))
end
init = function(args)
  prefix = "w" .. id .. "-" .. os.time()
end
request = function()
  counter = counter + 1
  local body = '{"caseId":"' .. prefix .. "-" .. counter ..
      '","caseType":"LOAN","clientId":"12345678901","clientType":"PESEL","status":"NEW","source":"PORTAL"}'
  return wrk.format("POST", "/api/case-repository/v1", { ["Authorization"] = auth, ["Content-Type"] = "application/json" }, body)
end
