-- nginx: the same bytes a get returns, as a static file
request = function()
  return wrk.format("GET", "/entry.json")
end
