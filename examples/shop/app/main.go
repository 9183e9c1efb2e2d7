package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8081", "address to serve on (loopback)")
	side := flag.String("side", "legacy", "which stack this process stands for: legacy or kubernetes")
	name := flag.String("name", "vm-1", "instance name shown in answers")
	flag.Parse()
	if *side != "legacy" && *side != "kubernetes" {
		fmt.Fprintln(os.Stderr, "shop-app: -side must be legacy or kubernetes")
		os.Exit(2)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if _, err := r.Cookie("_shop_session"); err != nil {
			http.SetCookie(w, &http.Cookie{Name: "_shop_session", Value: *name + "-" + fmt.Sprint(time.Now().UnixNano()), Path: "/", HttpOnly: true})
		}
		w.Header().Set("X-Shop-Side", *side)
		w.Header().Set("X-Shop-Instance", *name)
		fmt.Fprintf(w, "shop storefront %s served by %s (%s), client %s\n", r.URL.Path, *name, *side, r.Header.Get("X-Forwarded-For"))
	})
	srv := &http.Server{Addr: *listen, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
		<-stop
		_ = srv.Close()
	}()
	slog.Info("shop-app serving", "addr", *listen, "side", *side, "name", *name)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, "shop-app:", err)
		os.Exit(1)
	}
}
