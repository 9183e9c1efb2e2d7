# Copied from /etc/cron.d/payroll on payroll-web-01 so that it lives with the code.
MAILTO=ops@example.com

* * * * * www-data cd /var/www/payroll/current && php artisan schedule:run >> /dev/null 2>&1
*/5 * * * * www-data php /var/www/payroll/current/artisan queue:work --stop-when-empty
30 1 * * * www-data php /var/www/payroll/current/artisan payroll:close-day
0 3 * * 0 root /usr/local/bin/cleanup.sh
