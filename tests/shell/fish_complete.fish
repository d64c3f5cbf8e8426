# Prints what fish completes for each command line given, with the completion script FILE loaded:
#   fish --no-config fish_complete.fish FILE 'graph-threads create --' 'graph-threads -o '
# For each line: "@@ LINE", then the matches (without their descriptions), one per line, sorted.
source $argv[1]; or exit 1
for line in $argv[2..-1]
    echo "@@ $line"
    complete --do-complete "$line" | string replace -r '\t.*' '' | sort -u
end
