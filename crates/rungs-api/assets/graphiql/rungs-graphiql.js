// Starts GraphiQL on /graphql. Served from the Rungs binary, like GraphiQL and React themselves:
// nothing is fetched from the internet. Put `{"Authorization": "Bearer <access token>"}` in the
// request headers pane (a `login` mutation returns one).
(function () {
  function fetcher(params, opts) {
    var headers = Object.assign(
      { "content-type": "application/json", accept: "application/json" },
      (opts && opts.headers) || {}
    );
    return fetch("/graphql", {
      method: "POST",
      headers: headers,
      body: JSON.stringify(params),
      credentials: "omit",
    }).then(function (r) {
      return r.json();
    });
  }
  ReactDOM.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      headerEditorEnabled: true,
      shouldPersistHeaders: false,
    }),
    document.getElementById("graphiql")
  );
})();
