-- wrk: failed sign-ins as a distributed attacker sends them. Every request names a random
-- client address (X-Forwarded-For, believed because the bench trusts 127.0.0.1 as a proxy) and
-- a random unknown email, so neither the per-address nor the per-account limit stops it and
-- each one asks for a password check. $ORG names the organisation; with $SAME_ADDRESS set the
-- requests come from one address instead (the limits' case).
local org = os.getenv("ORG") or "bench"
local same = os.getenv("SAME_ADDRESS")
math.randomseed(os.time())

request = function()
  local headers = { ["Content-Type"] = "application/json" }
  if not same then
    headers["X-Forwarded-For"] = string.format("10.%d.%d.%d",
      math.random(0, 255), math.random(0, 255), math.random(1, 254))
  end
  local body = string.format(
    '{"query":"mutation { login(organisation: \\"%s\\", email: \\"nobody%d@flood.test\\", password: \\"a-wrong-password\\") { accessToken } }"}',
    org, math.random(1, 1000000000))
  return wrk.format("POST", nil, headers, body)
end
