-- GET /v1/search on two common values, page 0 (size 20), with the exact total
local auth = os.getenv("AUTH")
request = function()
  return wrk.format("GET", "/api/case-repository/v1/search?status=OPEN&caseType=LOAN&size=20", { ["Authorization"] = auth })
end
