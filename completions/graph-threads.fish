# fish completion for graph-threads. Installed as share/fish/vendor_completions.d/graph-threads.fish,
# where fish loads it on first use; or copy it to ~/.config/fish/completions/.
# tests/shell/completion_test.sh checks it in a real fish against `graph-threads [COMMAND] --help`.

set -l commands create list get reply lock unlock delete auth doctor
set -l auth_commands login status token logout export-refresh-token

# Nothing takes a file name unless said so below.
complete -c graph-threads -f

# Commands
set -l no_command "not __fish_seen_subcommand_from $commands"
complete -c graph-threads -n $no_command -a create -d 'Start a conversation thread in a group'
complete -c graph-threads -n $no_command -a list -d "List a group's threads, newest first"
complete -c graph-threads -n $no_command -a get -d 'Show one conversation thread'
complete -c graph-threads -n $no_command -a reply -d 'Reply to a conversation thread'
complete -c graph-threads -n $no_command -a lock -d 'Lock a thread (no more replies)'
complete -c graph-threads -n $no_command -a unlock -d 'Unlock a locked thread'
complete -c graph-threads -n $no_command -a delete -d 'Delete a conversation thread'
complete -c graph-threads -n $no_command -a auth -d 'Sign in and inspect the token'
complete -c graph-threads -n $no_command -a doctor -d 'Check configuration, network and token'
complete -c graph-threads -n $no_command -l version -d 'Print the version and exit'

# Global flags: accepted before and after the command name.
complete -c graph-threads -s h -l help -d 'Print help and exit'
complete -c graph-threads -l token -x -d 'Access token (visible in ps; prefer --token-file)'
complete -c graph-threads -l token-file -r -F -d 'Read the access token from FILE (- for stdin)'
complete -c graph-threads -l base-url -x -d 'Graph root URL'
complete -c graph-threads -l cloud -x -a 'global usgov dod china' -d 'National cloud'
complete -c graph-threads -l api-version -x -a 'v1.0 beta' -d 'Graph API version'
complete -c graph-threads -l cacert -r -F -d 'Also trust the CA certificates in this PEM file'
complete -c graph-threads -l timeout -x -d 'Time limit for the whole command, in seconds'
complete -c graph-threads -l retries -x -d 'Retries after 429/503 or a failed connection'
complete -c graph-threads -s o -l output -x -a 'json table id ndjson tsv' -d 'Output format'
complete -c graph-threads -l dry-run -d 'Print the request (token redacted), send nothing'
complete -c graph-threads -s v -l verbose -d 'Log each attempt on stderr'
complete -c graph-threads -l proxy -x -d 'HTTP proxy URL'
complete -c graph-threads -l no-proxy -d 'Use no proxy, whatever the environment says'
complete -c graph-threads -l jq -x -d 'Filter the JSON output with a jq expression'
complete -c graph-threads -l debug -d 'Log every request and response in full, secrets redacted'

# Flags of the commands
set -l thread_commands "__fish_seen_subcommand_from create list get reply lock unlock delete doctor"
complete -c graph-threads -n $thread_commands -l group -x -d 'Id (GUID) of the Microsoft 365 group'

set -l body "__fish_seen_subcommand_from create reply"
complete -c graph-threads -n $body -l body -x -d 'Text of the post'
complete -c graph-threads -n $body -l body-file -r -F -d "Read the post's text from FILE (- for stdin)"
complete -c graph-threads -n $body -l content-type -x -a 'text html' -d 'Body format'

set -l create "__fish_seen_subcommand_from create"
complete -c graph-threads -n $create -l topic -x -d 'Subject of the conversation'
complete -c graph-threads -n $create -l input -r -F -d 'JSON thread, NDJSON or a JSON array (- for stdin)'
complete -c graph-threads -n $create -l to -x -d 'To: recipient (repeatable)'
complete -c graph-threads -n $create -l cc -x -d 'Cc: recipient (repeatable)'
complete -c graph-threads -n $create -l participant -x -d 'Post participant (repeatable)'
complete -c graph-threads -n $create -l if-not-exists -d 'Create only when no thread with this topic exists'
complete -c graph-threads -n $create -l bulk -d 'A result line per item even for a single item'
complete -c graph-threads -n $create -l concurrency -x -d 'Requests in flight at once (default 4)'
complete -c graph-threads -n $create -l batch -d 'Pack up to 20 creates into each $batch request'
complete -c graph-threads -n $create -l max-rate -x -d 'At most this many creates per second'
complete -c graph-threads -n $create -l validate-only -d 'Check every item, send nothing'
complete -c graph-threads -n $create -l reconcile -d 'Resolve unknown outcomes by looking for the thread'
complete -c graph-threads -n $create -l reconcile-delay -x -d 'Seconds before --reconcile first looks'
complete -c graph-threads -n $create -l resume -r -F -d 'Skip items an earlier run created'
complete -c graph-threads -n $create -l no-progress -d 'No progress bar'

set -l list "__fish_seen_subcommand_from list"
complete -c graph-threads -n $list -l top -x -d 'Threads per page (1-999)'
complete -c graph-threads -n $list -l all -d 'Follow @odata.nextLink through every page'
complete -c graph-threads -n $list -l select -x -d 'Properties to print (comma-separated)' \
    -a 'id topic lastDeliveredDateTime isLocked preview hasAttachments uniqueSenders toRecipients ccRecipients'

complete -c graph-threads -n '__fish_seen_subcommand_from delete' -s y -l yes -d 'Do not ask for confirmation'

# auth and its commands
set -l auth_only "__fish_seen_subcommand_from auth; and not __fish_seen_subcommand_from $auth_commands"
complete -c graph-threads -n $auth_only -a login -d 'Sign in as a user with the device code flow'
complete -c graph-threads -n $auth_only -a status -d 'Show where the token comes from and what it allows'
complete -c graph-threads -n $auth_only -a token -d 'Print a valid access token'
complete -c graph-threads -n $auth_only -a logout -d 'Remove the signed-in account from the token cache'
complete -c graph-threads -n $auth_only -a export-refresh-token -d "Print the account's refresh token, for a CI secret"
set -l login "__fish_seen_subcommand_from auth; and __fish_seen_subcommand_from login"
complete -c graph-threads -n $login -l scope -x -d 'Scopes to ask for (repeatable)'
complete -c graph-threads -n $login -l tenant -x -d 'Tenant id or domain'
complete -c graph-threads -n $login -l client-id -x -d 'Application (client) id of your own app registration'
complete -c graph-threads -n "__fish_seen_subcommand_from auth; and __fish_seen_subcommand_from logout" \
    -l all -d 'Remove the whole token cache file'
