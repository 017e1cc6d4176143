#!/bin/sh
# Regenerates data/lab-asn-ipv4.csv.gz, the small embedded extract of the
# ip-location-db "asn" data (RouteViews + DB-IP IP-to-ASN Lite, CC-BY-4.0)
# that the DNS lab and tests use without ../shared:
#   sh enrich/asn/mkextract.sh /work/shared/data/asn/asn-ipv4.csv.gz
# It keeps up to 4 ranges of at least 256 addresses for each ASN the lab
# draws from (residential ISPs, CDNs, hosting) plus every 1000th row as a
# sample of the rest.
set -eu
src=${1:?usage: mkextract.sh asn-ipv4.csv.gz}
out=$(dirname "$0")/data/lab-asn-ipv4.csv.gz
# residential/consumer ISPs (fast-flux pools), then CDNs, then hosting
asns="7922 20115 701 7018 22773 3320 22927 3209 3215 12389 9121 45899 7552 4134 4808 10620 28573 9498 55836 4766 9318 6849 15895 31363 8359 7303 3269 12322 5410 5432 1136 3301 2119 3303 5089 2856 812 577 6327 7474 4637 7545 4771 25019 35819 36903 33771 36974 12741 5617 5483 6799 8048 6147 27925 23969 9287 9534 24560 17816 20940 13335 54113 16509 15169 24940 16276 14061"
zcat "$src" | awk -F, -v list="$asns" '
function ip2n(s,  a) { split(s, a, "."); return ((a[1]*256+a[2])*256+a[3])*256+a[4] }
BEGIN { n = split(list, l, " "); for (i = 1; i <= n; i++) want[l[i]] = 1 }
{
  keep = 0
  if (($3 in want) && kept[$3] < 4 && ip2n($2) - ip2n($1) >= 255) { kept[$3]++; keep = 1 }
  if (NR % 1000 == 0) keep = 1
  if (keep) print
}' | gzip -9n > "$out"
echo "wrote $out: $(zcat "$out" | wc -l) ranges"
