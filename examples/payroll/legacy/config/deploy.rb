# Capistrano config of the legacy payroll servers (capistrano/laravel in the Capfile).
lock "~> 3.19.0"

set :application, "payroll"
set :repo_url, "git@git.example.com:payroll/payroll.git"
set :deploy_to, "/var/www/payroll"
set :laravel_upload_dotenv_file_on_deploy, false

# The .env lived in shared/ on each server; storage held uploads and sessions until
# they moved to S3 and Redis.
append :linked_files, ".env"
append :linked_dirs, "storage", "bootstrap/cache", "vendor"

set :keep_releases, 5
