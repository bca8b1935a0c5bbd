// Passkey ceremonies for team members: join with an invite, sign in, add a passkey.
// The server makes and checks every challenge; this only carries them to the
// authenticator (through @simplewebauthn/browser) and back.
(function () {
  "use strict";
  var webauthn = window.SimpleWebAuthnBrowser;
  var statusLine = document.getElementById("members-status");
  var lang = document.documentElement.lang || "en";

  function say(text) {
    if (statusLine) statusLine.textContent = text;
  }

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function post(url, body) {
    var headers = { "Content-Type": "application/json" };
    var token = csrfToken();
    if (token) headers["X-CSRF-Token"] = token;
    return fetch(url, {
      method: "POST",
      headers: headers,
      body: JSON.stringify(body || {}),
      credentials: "same-origin",
    }).then(function (response) {
      return response.json().then(
        function (data) {
          if (!response.ok) {
            var error = new Error(data.error || "refused");
            error.status = response.status;
            throw error;
          }
          return data;
        },
        function () {
          var error = new Error("refused");
          error.status = response.status;
          throw error;
        }
      );
    });
  }

  function supported(holder) {
    if (webauthn && webauthn.browserSupportsWebAuthn()) return true;
    say(holder.dataset.unsupported);
    return false;
  }

  function go(next) {
    window.location.assign(next + "?lang=" + encodeURIComponent(lang));
  }

  var signin = document.getElementById("signin-button");
  if (signin) {
    var signinHolder = document.getElementById("signin");
    signin.addEventListener("click", function () {
      if (!supported(signinHolder)) return;
      signin.disabled = true;
      say("");
      post("/api/members/signin/options")
        .then(function (options) {
          return webauthn.startAuthentication({ optionsJSON: options });
        })
        .then(function (credential) {
          return post("/api/members/signin", { credential: credential });
        })
        .then(function (answer) {
          go(answer.next);
        })
        .catch(function () {
          say(signinHolder.dataset.failed);
          signin.disabled = false;
        });
    });
  }

  var join = document.getElementById("join");
  if (join) {
    join.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!supported(join)) return;
      var button = document.getElementById("join-button");
      var name = document.getElementById("display_name").value;
      var base = "/api/members/invites/" + encodeURIComponent(join.dataset.token);
      button.disabled = true;
      say("");
      post(base + "/options", { display_name: name })
        .then(function (options) {
          return webauthn.startRegistration({ optionsJSON: options });
        })
        .then(function (credential) {
          return post(base, { display_name: name, credential: credential });
        })
        .then(function (answer) {
          go(answer.next);
        })
        .catch(function (error) {
          say(error.status === 422 ? join.dataset.nameProblem : join.dataset.failed);
          button.disabled = false;
        });
    });
  }

  var add = document.getElementById("add-passkey");
  if (add) {
    var consoleHolder = document.getElementById("members-console");
    add.addEventListener("click", function () {
      if (!supported(consoleHolder)) return;
      add.disabled = true;
      post("/api/members/me/passkeys/options")
        .then(function (options) {
          return webauthn.startRegistration({ optionsJSON: options });
        })
        .then(function (credential) {
          return post("/api/members/me/passkeys", { credential: credential });
        })
        .then(function () {
          window.location.reload();
        })
        .catch(function () {
          say(consoleHolder.dataset.failed);
          add.disabled = false;
        });
    });
  }
})();
