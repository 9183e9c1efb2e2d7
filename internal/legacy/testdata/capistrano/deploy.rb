# config valid for current version and patch releases of Capistrano
lock "~> 3.18.0"

set :application, "shop"
set :repo_url, "git@git.example.com:shop/shop.git"
set :deploy_to, "/var/www/shop"

# Default value for :linked_files is []
append :linked_files, "config/database.yml", "config/master.key", ".env"
set :linked_files, fetch(:linked_files, []).push('config/storage.yml')

# Default value for linked_dirs is []
set :linked_dirs, %w[
  log tmp/pids tmp/cache tmp/sockets
  public/system public/uploads vendor/bundle
]
remove :linked_dirs, "public/system"

set :keep_releases, 5
