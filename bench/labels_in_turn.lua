-- wrk script: each request asks for the page of the next label of the file named by $URIS
-- (one path a line), starting at a random line per thread, as shoppers scanning many labels.
-- Requests are formatted once, at start, so that wrk spends little CPU on each.
local requests = {}
for line in io.lines(os.getenv("URIS")) do
  requests[#requests + 1] = wrk.format("GET", line, {["Accept-Encoding"] = "gzip"})
end
local i = math.random(#requests)
request = function()
  i = i % #requests + 1
  return requests[i]
end
