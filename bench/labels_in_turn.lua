-- wrk script: each request asks for the page of the next label of the file named by $URIS
-- (one path a line), starting at a random line per thread, as shoppers scanning many labels.
local paths = {}
for line in io.lines(os.getenv("URIS")) do paths[#paths + 1] = line end
local i = math.random(#paths)
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i], {["Accept-Encoding"] = "gzip"})
end
