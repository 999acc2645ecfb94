# weir's side of an R recipe's run (weir/build/r_runner.py starts it with Rscript).
#
# It reads the job weir wrote (an R expression), reads each input data frame from weir's
# hand-over files, calls the recipe's function, and writes what it returns the same way. Base R
# only: a machine with R and no package at all runs R recipes.
#
# A data frame on disk is a directory: `meta` holds NUL-terminated strings — a format tag, the
# rows, the columns, then per column its name, type, time zone and whether it has a mask of
# missing values — and each column k is `k.bin` (little-endian int32, float64, or NUL-terminated
# UTF-8 strings) with `k.na` (one byte per row, 1 = missing) where a value is missing. R's own
# NA of integers and logicals needs no mask; a double's NA and NaN stay apart.

local({
  FORMAT <- "weir-frame-1"
  args <- commandArgs(trailingOnly = TRUE)
  job <- eval(parse(file = args[[1]], encoding = "UTF-8", keep.source = FALSE)[[1]], baseenv())
  options(warn = 1, stringsAsFactors = FALSE)

  read_frame <- function(dir) {
    meta_file <- file.path(dir, "meta")
    meta <- readBin(meta_file, "character", file.size(meta_file))
    Encoding(meta) <- "UTF-8"  # column names, whatever the locale R runs in
    if (meta[[1]] != FORMAT) stop("weir: unknown hand-over format ", meta[[1]])
    n <- as.integer(meta[[2]])
    ncol <- as.integer(meta[[3]])
    out <- vector("list", ncol)
    names_ <- character(ncol)
    for (k in seq_len(ncol)) {
      at <- 3L + (k - 1L) * 4L
      names_[[k]] <- meta[[at + 1L]]
      type <- meta[[at + 2L]]
      tz <- meta[[at + 3L]]
      path <- file.path(dir, paste0(k, ".bin"))
      con <- file(path, "rb")
      x <- switch(type,
        integer = readBin(con, "integer", n, size = 4L, endian = "little"),
        logical = as.logical(readBin(con, "integer", n, size = 4L, endian = "little")),
        double = readBin(con, "double", n, size = 8L, endian = "little"),
        date = structure(readBin(con, "double", n, size = 8L, endian = "little"),
                         class = "Date"),
        timestamp = .POSIXct(readBin(con, "double", n, size = 8L, endian = "little"),
                             tz = tz),
        string = {
          s <- if (n > 0L) readBin(con, "character", n) else character(0)
          Encoding(s) <- "UTF-8"
          s
        },
        stop("weir: unknown column type ", type))
      close(con)
      if (meta[[at + 4L]] == "1") {
        x[readBin(file.path(dir, paste0(k, ".na")), "raw", n) != as.raw(0L)] <- NA
      }
      out[[k]] <- x
    }
    names(out) <- names_
    structure(out, class = "data.frame", row.names = .set_row_names(n))
  }

  write_frame <- function(df, dir, what) {
    if (is.matrix(df)) df <- as.data.frame(df)
    if (!is.data.frame(df)) {
      stop(sprintf("%s must be a data frame; it is %s", what,
                   paste(class(df), collapse = "/")), call. = FALSE)
    }
    dir.create(dir, recursive = TRUE, showWarnings = FALSE)
    meta <- c(FORMAT, as.character(nrow(df)), as.character(ncol(df)))
    cols <- names(df)
    if (is.null(cols) || any(is.na(cols) | cols == "") || anyDuplicated(cols)) {
      stop(sprintf("%s must have a distinct name for every column", what), call. = FALSE)
    }
    for (k in seq_along(df)) {
      x <- df[[k]]
      tz <- ""
      if (is.factor(x)) x <- as.character(x)
      missing <- is.na(x)
      con <- file(file.path(dir, paste0(k, ".bin")), "wb")
      if (inherits(x, "POSIXct")) {
        type <- "timestamp"
        tz <- attr(x, "tzone")
        tz <- if (is.null(tz)) "" else tz[[1]]
        writeBin(as.double(unclass(x)), con, size = 8L, endian = "little")
      } else if (inherits(x, "Date")) {
        type <- "date"
        writeBin(as.double(unclass(x)), con, size = 8L, endian = "little")
      } else if (is.logical(x)) {
        type <- "logical"
        writeBin(as.integer(x), con, size = 4L, endian = "little")
        missing <- FALSE
      } else if (is.integer(x)) {
        type <- "integer"
        writeBin(unclass(x), con, size = 4L, endian = "little")
        missing <- FALSE
      } else if (is.double(x)) {
        type <- "double"
        missing <- missing & !is.nan(x)
        writeBin(unclass(x), con, size = 8L, endian = "little")
      } else if (is.character(x)) {
        type <- "string"
        x <- enc2utf8(x)
        x[missing] <- ""
        writeBin(x, con)
      } else {
        close(con)
        stop(sprintf("column '%s' of %s is of class %s, which weir cannot take back",
                     cols[[k]], what, paste(class(x), collapse = "/")), call. = FALSE)
      }
      close(con)
      has_na <- any(missing)
      if (has_na) writeBin(as.raw(missing), file.path(dir, paste0(k, ".na")))
      meta <- c(meta, enc2utf8(cols[[k]]), type, tz, if (has_na) "1" else "0")
    }
    writeBin(meta, file.path(dir, "meta"))
  }

  where <- function(call) {
    ref <- attr(call, "srcref")
    if (is.null(ref)) return(NULL)
    file <- attr(ref, "srcfile")$filename
    if (is.null(file) || !nzchar(file)) return(NULL)
    sprintf("%s:%d", file, ref[[1]])
  }

  fail <- function(e, calls) {
    call <- conditionCall(e)
    # An error in the file's top-level code: sys.source's own call says nothing to the user.
    if (!is.null(call) && startsWith(deparse(call, nlines = 1L)[[1]], "eval(exprs[i]")) {
      call <- NULL
    }
    said <- if (is.null(call)) sprintf("Error: %s", conditionMessage(e)) else
      sprintf("Error in %s: %s", paste(deparse(call, nlines = 1L), collapse = " "),
              conditionMessage(e))
    lines <- c()
    for (cl in calls) {
      at <- where(cl)
      if (is.null(at)) next
      text <- paste(deparse(cl, nlines = 1L), collapse = " ")
      # R's own handlers, called where the error happened: the place is what counts.
      internal <- startsWith(text, ".handleSimpleError(") || startsWith(text, "h(simpleError")
      lines <- c(lines, if (internal) sprintf("  %s", at) else sprintf("  %s: %s", at, text))
    }
    text <- enc2utf8(c(said, lines))
    writeBin(text, job$error_file)
    quit(save = "no", status = 3L)
  }

  variables <- job$variables
  helpers <- new.env(parent = globalenv())
  helpers$var <- function(name) {
    if (!is.character(name) || length(name) != 1L || !(name %in% names(variables))) {
      stop(sprintf("unknown variable '%s'", paste(name, collapse = ", ")), call. = FALSE)
    }
    variables[[name]]
  }
  recipe_env <- new.env(parent = helpers)
  calls <- NULL
  outcome <- tryCatch(withCallingHandlers({
      sys.source(job$file, envir = recipe_env, keep.source = TRUE, toplevel.env = recipe_env)
      fn <- get0(job$`function`, envir = recipe_env, inherits = FALSE)
      if (!is.function(fn)) {
        stop(sprintf("'%s' is not a function when the file runs", job$`function`),
             call. = FALSE)
      }
      t0 <- proc.time()[["elapsed"]]
      inputs <- list()
      for (inp in job$inputs) {
        inputs[[inp$name]] <- if (inp$kind == "folder") inp$path else read_frame(inp$path)
      }
      t1 <- proc.time()[["elapsed"]]
      for (out in job$outputs) {
        if (out$kind == "folder") inputs[[out$name]] <- out$path
      }
      value <- do.call(fn, inputs, envir = recipe_env)
      t2 <- proc.time()[["elapsed"]]
      frames <- Filter(function(o) o$kind == "frame", job$outputs)
      if (length(frames) == 1L && !(is.list(value) && !is.data.frame(value) &&
                                    identical(sort(names(value)), frames[[1]]$name))) {
        write_frame(value, frames[[1]]$path,
                    sprintf("what recipe '%s' returns", job$`function`))
      } else if (length(frames) > 0L) {
        wanted <- vapply(frames, function(o) o$name, "")
        got <- if (is.list(value) && !is.data.frame(value)) names(value) else NULL
        if (is.null(got) || !setequal(got, wanted) || length(got) != length(wanted)) {
          stop(sprintf("recipe '%s' must return a named list of %s; it returned %s",
                       job$`function`, paste(wanted, collapse = ", "),
                       if (is.null(got)) paste(class(value), collapse = "/")
                       else sprintf("list(%s)", paste(got, collapse = ", "))), call. = FALSE)
        }
        for (o in frames) {
          write_frame(value[[o$name]], o$path, sprintf("'%s'", o$name))
        }
      }
      cat(sprintf("weir: in R, inputs read in %.3fs, the recipe ran %.3fs, outputs written in %.3fs\n",
                  t1 - t0, t2 - t1, proc.time()[["elapsed"]] - t2))
      TRUE
    }, error = function(e) calls <<- sys.calls()),
    error = function(e) fail(e, calls))
  invisible(outcome)
})
