# /etc/cron.d/shop: installed by the shop cookbook
SHELL=/bin/sh
PATH=/usr/local/sbin:/usr/local/bin:/sbin:/bin:/usr/sbin:/usr/bin
MAILTO=""

# Rotate the app's own logs
17 * * * *   root    cd / && run-parts --report /etc/cron.hourly
# Purge expired image variants
20 2 * * *   deploy  cd /var/www/shop/current && RAILS_ENV=production bundle exec rake images:purge_variants
*/15 * * * * www-data php /var/www/legacy-admin/cron/send_queued_mail.php > /var/log/admin-mail.log 2>&1
0 5 * * 0    deploy  sudo -u deploy /var/www/shop/current/bin/backup-uploads
