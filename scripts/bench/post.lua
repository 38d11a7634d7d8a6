-- wrk: POST the GraphQL body in $BODY with the bearer token in $TOKEN (none when empty).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local token = os.getenv("TOKEN")
if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end
wrk.body = os.getenv("BODY")
