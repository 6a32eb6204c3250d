# SPDX-License-Identifier: Apache-2.0
# The handler of the provided-curl example: echoes the event inside a JSON object.
handler () {
  EVENT_DATA=$1
  echo "$EVENT_DATA" 1>&2;
  RESPONSE="{\"echo\": $EVENT_DATA, \"runtime\": \"provided\"}"
  echo $RESPONSE
}
